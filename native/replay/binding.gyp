{
  "targets": [
    {
      "target_name": "ior_replay",
      "sources": ["replay.c"],
      "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wno-unused-parameter"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
