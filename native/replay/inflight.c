/*
 * inflight.c - the replay's own concurrency: calls in flight across every
 * executor thread (a synchronous call from issue to return, an async one
 * from queueing to its completion being taken), as a time-weighted
 * histogram, so the report can set it beside the traced concurrency.
 *
 * Lock-free: three atomics per change. Two changes racing within the same
 * few nanoseconds may attribute that sliver of time to a neighbouring level;
 * the maximum is exact. With one executor thread (a single-lane trace at
 * --speed max: the issue-rate benchmark) there is one writer: plain
 * relaxed loads and stores, no locked instruction (they cost 3% of the
 * replay's rate there).
 */
#include <stdatomic.h>
#include <stdint.h>

#include "replay.h"

#define LEVELS 4096 /* levels above are counted in the last */

static atomic_llong g_level;
static atomic_llong g_last;       /* time of the last change (0: none yet): the level is timed from the first */
static atomic_llong g_max;
static atomic_llong g_hist[LEVELS]; /* ns spent at each level */
static atomic_int g_one_writer;

/* the histogram slot of a level */
static atomic_llong *slot(long long level)
{
	return &g_hist[level < 0 ? 0 : level >= LEVELS ? LEVELS - 1 : level];
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define STORE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

void inflight_reset(void)
{
	atomic_store(&g_one_writer, 1);
	atomic_store(&g_level, 0);
	atomic_store(&g_last, 0);
	atomic_store(&g_max, 0);
	for (int i = 0; i < LEVELS; i++)
		atomic_store_explicit(&g_hist[i], 0, memory_order_relaxed);
}

/* Called before a second lane's first op is submitted: from then on, atomics
 * (an update of the first lane's thread racing the switch is a sliver of time). */
void inflight_writers(int writers)
{
	atomic_store(&g_one_writer, writers <= 1);
}

void inflight_change(int delta, int64_t now)
{
	if (atomic_load_explicit(&g_one_writer, memory_order_relaxed)) {
		long long prev = LOAD(g_last), old = LOAD(g_level);
		STORE(g_last, now);
		STORE(g_level, old + delta);
		if (prev && now > prev)
			STORE(*slot(old), LOAD(*slot(old)) + (now - prev));
		if (old + delta > LOAD(g_max))
			STORE(g_max, old + delta);
		return;
	}
	long long prev = atomic_exchange(&g_last, now);
	long long old = atomic_fetch_add(&g_level, delta);

	if (prev && now > prev)
		atomic_fetch_add_explicit(slot(old), now - prev, memory_order_relaxed);
	if (delta > 0) {
		long long m = atomic_load_explicit(&g_max, memory_order_relaxed);
		while (old + delta > m && !atomic_compare_exchange_weak(&g_max, &m, old + delta))
			;
	}
}

void inflight_stats(double *mean, double *p99, double *max)
{
	double total = 0, weighted = 0;
	for (int i = 0; i < LEVELS; i++) {
		double t = (double)atomic_load_explicit(&g_hist[i], memory_order_relaxed);
		total += t;
		weighted += t * i;
	}
	*mean = total > 0 ? weighted / total : 0;
	*max = (double)atomic_load(&g_max);
	*p99 = 0;
	double seen = 0;
	for (int i = 0; i < LEVELS && total > 0; i++) {
		seen += (double)atomic_load_explicit(&g_hist[i], memory_order_relaxed);
		if (seen >= 0.99 * total) {
			*p99 = i;
			break;
		}
	}
}
