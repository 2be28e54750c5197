/*
 * lanes.c - one executor thread per lane (traced thread, or async ring).
 *
 * The planner (replay/run.ts, on Node's main thread) appends ranges of a
 * lane's encoded ops with lanes_submit(); the lane's own thread runs them
 * in order (run_range, replay.c): it sleeps until each op is due, waits
 * for the ops of other lanes it depends on, issues the syscall, and
 * publishes its progress in per-lane counters that the planner polls.
 * No JavaScript runs on these threads, and nothing is handed over per
 * range: a lane's thread is there when its next op is due (a Node worker
 * per lane cost ~1-2 ms of CPU per hand-over, which lagged 256 paced
 * threads on 2 CPUs by 4-20 ms at p99).
 *
 * Every executor thread is started by one thread, the nursery: in chroot
 * mode its root is the target (confine.c), and pthread_create shares the
 * starter's root and cwd with the new thread, so the target is chrooted
 * into once per replay. (A chroot per thread made two permission requests
 * of the target's file system per thread: 256 threads starting at once
 * sent a FUSE daemon 512 ACCESS requests the trace never made, and their
 * first creates were 60-800 ms late.) Lanes get their threads from it
 * without waiting: spawn() reserves the place and queues the lane.
 *
 * A thread with nothing queued for IDLE_NS exits (a lane that pauses, or
 * whose traced thread ended); the next submit starts another. At most
 * max_threads run at once (--workers): a lane submitted beyond that waits
 * in a queue of lanes for a thread. So that no lane waits for ever on one
 * that has no thread, while lanes wait: idle threads leave at once, and a
 * thread that waits more than 20 ms for another lane's op gives its place
 * up (run_range yields; the rest of its range waits in the lane's queue).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"
#include "replay.h"

#define IDLE_NS 500000000LL
/* run_range's frames hold a few PATH_MAX buffers: far below this */
#define STACK_BYTES (512 * 1024)

/* (no condition variables: dist/ior binds pthread_cond_timedwait to its
 * pre-2.3.2 version for old glibcs, which does not mix with today's
 * pthread_cond_init; a futex word does the same here) */
struct lane_queue {
	pthread_mutex_t mu;
	_Atomic int32_t wake; /* bumped (and futex-woken) when a range is queued or the threads must leave */
	struct range *items; /* a ring of cap ranges, n from head */
	int head, n, cap;
	int live;    /* a thread serves this lane */
	int waiting; /* in the queue of lanes waiting for a thread */
};

static struct lane_queue *g_queues; /* LANES_MAX reserved, g_nqueues in use */
static int g_nqueues;
static int g_max_threads;
static atomic_int g_live, g_peak, g_stopping;
/* lanes with ops queued and no thread, first come first served */
static pthread_mutex_t g_waiting_mu = PTHREAD_MUTEX_INITIALIZER;
static int *g_waiting, g_waiting_head, g_waiting_n;
static atomic_int g_nwaiting;
/* the nursery: lanes whose reserved thread it is to start, first come first served */
static pthread_t g_nursery;
static int g_nursery_up;
static pthread_mutex_t g_births_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int32_t g_births_wake;
static int *g_births, g_births_head, g_births_n;
static int g_births_closed; /* the nursery left: a spawn gives its place back at once */

static void *lane_main(void *arg);
static void wait_for_thread(int lane);

/* A ring slot for one more range (the caller holds q->mu). */
static int queue_room(struct lane_queue *q)
{
	if (q->n < q->cap)
		return 0;
	int cap = q->cap ? 2 * q->cap : 8;
	struct range *items = malloc((size_t)cap * sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (int i = 0; i < q->n; i++)
		items[i] = q->items[(q->head + i) % q->cap];
	free(q->items);
	q->items = items;
	q->head = 0;
	q->cap = cap;
	return 0;
}

/* A place for one more thread, if fewer than max_threads run: taken at
 * once (the main thread and threads that leave both start threads: a check
 * then an increment let them start one too many between them). */
static int reserve(void)
{
	for (int live = atomic_load(&g_live); live < g_max_threads;)
		if (atomic_compare_exchange_weak(&g_live, &live, live + 1))
			return 1;
	return 0;
}

/* Wake a futex word's sleepers (queued work, or leaving). */
static void wake_word(_Atomic int32_t *word)
{
	atomic_fetch_add(word, 1);
	syscall(SYS_futex, (int32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* The lane's thread, in a reserved place (the caller holds q->mu): the
 * nursery starts it. */
static void spawn(int lane)
{
	struct lane_queue *q = &g_queues[lane];
	q->live = 1;
	for (int live = atomic_load(&g_live), peak = atomic_load(&g_peak); live > peak && !atomic_compare_exchange_weak(&g_peak, &peak, live);)
		;
	pthread_mutex_lock(&g_births_mu);
	int closed = g_births_closed;
	if (!closed) {
		g_births[(g_births_head + g_births_n) % LANES_MAX] = lane;
		g_births_n++;
	}
	pthread_mutex_unlock(&g_births_mu);
	if (closed) {
		q->live = 0;
		atomic_fetch_sub(&g_live, 1);
		return;
	}
	wake_word(&g_births_wake);
}

/* A thread the nursery could not start (RLIMIT_NPROC, memory): its lane waits for a place. */
static void stillborn(int lane)
{
	struct lane_queue *q = &g_queues[lane];
	pthread_mutex_lock(&q->mu);
	q->live = 0;
	atomic_fetch_sub(&g_live, 1);
	wait_for_thread(lane);
	pthread_mutex_unlock(&q->mu);
}

static void *nursery_main(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "ior-nursery", 0, 0, 0);
	confine_nursery();
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_BYTES);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&g_births_mu);
	for (;;) {
		if (g_births_n == 0) {
			/* (the word read before the flag: a stop between them changes the word, and the wait returns) */
			int32_t seen = atomic_load(&g_births_wake);
			if (atomic_load(&g_stopping))
				break;
			pthread_mutex_unlock(&g_births_mu);
			syscall(SYS_futex, (int32_t *)&g_births_wake, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
			pthread_mutex_lock(&g_births_mu);
			continue;
		}
		int lane = g_births[g_births_head];
		g_births_head = (g_births_head + 1) % LANES_MAX;
		g_births_n--;
		pthread_mutex_unlock(&g_births_mu);
		pthread_t t;
		if (atomic_load(&g_stopping) || pthread_create(&t, &attr, lane_main, (void *)(intptr_t)lane) != 0)
			stillborn(lane);
		pthread_mutex_lock(&g_births_mu);
	}
	g_births_closed = 1;
	pthread_mutex_unlock(&g_births_mu);
	pthread_attr_destroy(&attr);
	return NULL;
}

/* The lane waits for a thread (the caller holds q->mu). */
static void wait_for_thread(int lane)
{
	struct lane_queue *q = &g_queues[lane];
	if (q->waiting)
		return;
	q->waiting = 1;
	pthread_mutex_lock(&g_waiting_mu);
	g_waiting[(g_waiting_head + g_waiting_n) % LANES_MAX] = lane;
	g_waiting_n++;
	atomic_fetch_add(&g_nwaiting, 1);
	pthread_mutex_unlock(&g_waiting_mu);
}

int lanes_waiting(void)
{
	return atomic_load_explicit(&g_nwaiting, memory_order_relaxed);
}

/* Threads for the lanes that wait, while fewer than max_threads run. */
void lanes_kick(void)
{
	while (atomic_load(&g_nwaiting) > 0 && !atomic_load(&g_stopping) && reserve()) {
		pthread_mutex_lock(&g_waiting_mu);
		if (g_waiting_n == 0) {
			pthread_mutex_unlock(&g_waiting_mu);
			atomic_fetch_sub(&g_live, 1);
			return;
		}
		int lane = g_waiting[g_waiting_head];
		g_waiting_head = (g_waiting_head + 1) % LANES_MAX;
		g_waiting_n--;
		atomic_fetch_sub(&g_nwaiting, 1);
		pthread_mutex_unlock(&g_waiting_mu);
		struct lane_queue *q = &g_queues[lane];
		pthread_mutex_lock(&q->mu);
		q->waiting = 0;
		if (!q->live && q->n > 0)
			spawn(lane);
		else
			atomic_fetch_sub(&g_live, 1); /* nothing to run after all */
		pthread_mutex_unlock(&q->mu);
	}
}

static void *lane_main(void *arg)
{
	int lane = (int)(intptr_t)arg;
	struct lane_queue *q = &g_queues[lane];

	executor_thread_begin();
	pthread_mutex_lock(&q->mu);
	for (;;) {
		int64_t idle_until = mono_ns() + IDLE_NS;
		while (q->n == 0 && !atomic_load(&g_stopping)) {
			int64_t left = idle_until - mono_ns();
			if (lanes_waiting() > 0 || left <= 0)
				goto out; /* its place is wanted now, or it idled long enough */
			int32_t seen = atomic_load(&q->wake);
			if (atomic_load(&g_stopping))
				break; /* (read after the word, as in nursery_main) */
			pthread_mutex_unlock(&q->mu);
			struct timespec ts = { left / 1000000000LL, left % 1000000000LL };
			syscall(SYS_futex, (int32_t *)&q->wake, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
			pthread_mutex_lock(&q->mu);
		}
		if (atomic_load(&g_stopping))
			goto out;
		struct range r = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
		pthread_mutex_unlock(&q->mu);
		int yielded = run_range(&r, lane) == 0;
		pthread_mutex_lock(&q->mu);
		if (yielded) {
			/* blocked on a lane that waits for a thread: the rest goes first when this one gets a thread again */
			if (queue_room(q) == 0) {
				q->head = (q->head + q->cap - 1) % q->cap;
				q->items[q->head] = r;
				q->n++;
			}
			wait_for_thread(lane);
			goto out;
		}
	}
out:
	q->live = 0;
	pthread_mutex_unlock(&q->mu);
	executor_thread_end();
	atomic_fetch_sub(&g_live, 1);
	lanes_kick();
	return NULL;
}

int lanes_setup(int max_threads)
{
	lanes_teardown();
	g_queues = calloc(LANES_MAX, sizeof(*g_queues));
	g_waiting = calloc(LANES_MAX, sizeof(*g_waiting));
	g_births = calloc(LANES_MAX, sizeof(*g_births));
	if (!g_queues || !g_waiting || !g_births)
		return -ENOMEM;
	g_waiting_head = g_waiting_n = 0;
	atomic_store(&g_nwaiting, 0);
	g_nqueues = 0;
	g_max_threads = max_threads;
	atomic_store(&g_live, 0);
	atomic_store(&g_peak, 0);
	atomic_store(&g_stopping, 0);
	g_births_head = g_births_n = g_births_closed = 0;
	return 0;
}

/* The main thread met lanes up to nlanes (before it submits to them). */
void lanes_grow(int nlanes)
{
	for (; g_nqueues < nlanes; g_nqueues++)
		pthread_mutex_init(&g_queues[g_nqueues].mu, NULL);
}

int lanes_submit(int lane, const struct range *r)
{
	if (lane < 0 || lane >= g_nqueues)
		return -EINVAL;
	if (!g_nursery_up) {
		/* at the first submit (on the main thread, as teardown): a setup for the init alone starts no thread */
		int err = pthread_create(&g_nursery, NULL, nursery_main, NULL);
		if (err)
			return -err;
		g_nursery_up = 1;
	}
	struct lane_queue *q = &g_queues[lane];
	pthread_mutex_lock(&q->mu);
	int err = queue_room(q);
	if (err) {
		pthread_mutex_unlock(&q->mu);
		return err;
	}
	q->items[(q->head + q->n) % q->cap] = *r;
	q->n++;
	if (q->live)
		wake_word(&q->wake);
	else if (!q->waiting && lanes_waiting() == 0 && reserve())
		spawn(lane);
	else if (!q->waiting)
		wait_for_thread(lane);
	pthread_mutex_unlock(&q->mu);
	return 1;
}

int lanes_live(void)
{
	return atomic_load(&g_live);
}

int lanes_peak(void)
{
	return atomic_load(&g_peak);
}

/* Every thread leaves once its current op is done (run_range sees the stop
 * flag too); wait for them, then forget the queues. */
void lanes_teardown(void)
{
	if (!g_queues)
		return;
	atomic_store(&g_stopping, 1);
	if (g_nursery_up) {
		/* the lanes it has not started yet give their places back */
		wake_word(&g_births_wake);
		pthread_join(g_nursery, NULL);
		g_nursery_up = 0;
	}
	for (int i = 0; i < g_nqueues; i++)
		wake_word(&g_queues[i].wake);
	while (atomic_load(&g_live) > 0) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	for (int i = 0; i < g_nqueues; i++) {
		free(g_queues[i].items);
		pthread_mutex_destroy(&g_queues[i].mu);
	}
	free(g_queues);
	free(g_waiting);
	free(g_births);
	g_queues = NULL;
	g_waiting = NULL;
	g_births = NULL;
	g_nqueues = 0;
}
