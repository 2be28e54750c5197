#!/bin/sh
# /init of the kernel matrix's initramfs (scripts/check-kernels.sh): mount
# what a host has, run the checks with their report on the serial console,
# power off. tracefs is left unmounted: the loader mounts it when it needs it.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
hostname kernel-matrix
export PATH=/bin HOME=/root
IOR=/bin/ior FIXED=/bin/iowork-fixed FIO=/bin/fio SCRATCH=/tmp/ior-check sh /checks.sh
poweroff -f
