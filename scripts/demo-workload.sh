#!/bin/sh
# The built-in demo workload: a little of what real services do to a file
# system, with real programs. Runs in the directory given as $1.
#   - an append-only log with fsync after each record (like a WAL)
#   - a SQLite database taking inserts in transactions
#   - files written, read back, renamed into place, and removed
#   - a tar archive of a directory, then listed
set -eu
dir=$1
mkdir -p "$dir/data" "$dir/archive"
cd "$dir"

i=0
while [ $i -lt 200 ]; do
  printf 'record %05d %s\n' $i "$(date +%s%N)" >> data/wal.log
  i=$((i + 1))
done
sync data/wal.log

sqlite3 data/app.db 'CREATE TABLE IF NOT EXISTS kv(k INTEGER PRIMARY KEY, v TEXT);'
for batch in 1 2 3 4 5; do
  sqlite3 data/app.db "BEGIN; WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 200)
    INSERT OR REPLACE INTO kv SELECT x + $batch * 1000, hex(randomblob(64)) FROM n; COMMIT;"
done
sqlite3 data/app.db 'SELECT count(*) FROM kv;' > data/count.txt

for n in 1 2 3 4 5 6 7 8; do
  head -c $((n * 64 * 1024)) /dev/urandom > "data/blob-$n.tmp"
  mv "data/blob-$n.tmp" "data/blob-$n.bin"
done
cat data/blob-*.bin > /dev/null
tar -cf archive/data.tar data
tar -tf archive/data.tar > /dev/null
rm -f data/blob-1.bin data/blob-2.bin
ls -la data > /dev/null
