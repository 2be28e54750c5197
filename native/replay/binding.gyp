{
  "targets": [
    {
      "target_name": "ior_replay",
      "sources": ["replay.c", "lanes.c", "confine.c", "inflight.c", "async.c", "uring.c", "init.c"],
      "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wno-unused-parameter", "-Werror=implicit-function-declaration"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
