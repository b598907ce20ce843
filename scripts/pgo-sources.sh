#!/bin/sh
# A digest of what the knsim crate is compiled from (its sources and the
# locked dependency versions), recorded beside the profile in pgo/ to tell
# whether the profile was made from the present sources.
cd "${1:-$(dirname "$0")/..}" || exit 1
find src -type f -name '*.rs' | LC_ALL=C sort | xargs cat Cargo.lock | cksum
