#!/bin/sh
# Rebuilds input.so: a link-time-optimised object whose late debug units
# refer to the early ones with DW_FORM_ref_addr, so that strings reach
# across units (the walk must then go unit by unit, in order).
# Built with gcc 12.2 (Debian 12.2.0-14).
set -e
cd "$(dirname "$0")"
gcc -g -O2 -flto -shared -fPIC -nostdlib a.c b.c -o input.so
