#!/bin/sh
# Checks two rules of the kernel library (a static archive):
#  - it references nothing from libm (firmware and MicroPython modules cannot
#    link it; the kernels carry their own exp/tanh/rsqrt);
#  - it has no writable static data (.data/.bss are empty; .data.rel.ro
#    holds const tables of pointers, read-only after relocation), so it is
#    reentrant and its state lives only in caller-owned buffers;
#  - every symbol it defines with external linkage is either public API,
#    declared in a public header (INCLUDE_DIR/*.h) with the prefix mts_, or
#    internal with the prefix mtsi_, so nothing else leaks into a user's
#    namespace and nothing internal passes for API.
#
#   check_kernel_library.sh LIBRARY INCLUDE_DIR [NM [SIZE]]   (the target's binutils)
set -eu
lib=$1
include_dir=$2
nm=${3:-nm}
size=${4:-size}
libm='^(exp|expf|exp2f|expm1f|log|logf|pow|powf|sqrt|sqrtf|tanh|tanhf|sinf|cosf|erff|fabsf)$'
bad=$("$nm" -u "$lib" | awk '{print $NF}' | grep -E "$libm" || true)
if [ -n "$bad" ]; then
  echo "kernel library references libm: $bad"
  echo "kernel_library_rules: 0 passed, 3 failed"
  exit 1
fi
writable=$("$size" -A "$lib" | awk '$1 ~ /^\.(data|bss)/ && $1 !~ /^\.data\.rel\.ro/ && $2 != 0 {print}')
if [ -n "$writable" ]; then
  echo "kernel library has writable static data:"
  echo "$writable"
  echo "kernel_library_rules: 1 passed, 2 failed"
  exit 1
fi
# Names the public headers declare: functions (name followed by "(") and
# objects (name followed by "[" or ";").
public=$(cat "$include_dir"/*.h | grep -oE '\bmts_[A-Za-z0-9_]+(\(|\[|;)' |
         sed -E 's/[([;]$//' | sort -u)
# Defined symbols with external linkage (type letter upper case, or weak).
defined=$("$nm" -g --defined-only "$lib" | awk 'NF >= 3 {print $NF}' | sort -u)
if [ -z "$defined" ]; then
  echo "kernel library: nm lists no defined symbols"
  echo "kernel_library_rules: 2 passed, 1 failed"
  exit 1
fi
stray=$(printf '%s\n' "$defined" | grep -v '^mtsi_' | grep -vxF "$public" || true)
if [ -n "$stray" ]; then
  echo "kernel library defines external symbols that are neither declared in"
  echo "$include_dir with mts_ nor internal with mtsi_:"
  echo "$stray"
  echo "kernel_library_rules: 2 passed, 1 failed"
  exit 1
fi
echo "external symbols: $("$nm" -u "$lib" | awk '{print $NF}' | grep -v ':$' | sort -u | tr '\n' ' ')"
echo "defined symbols: $(printf '%s\n' "$defined" | grep -c '^mtsi_') internal (mtsi_)," \
     "$(printf '%s\n' "$defined" | grep -vc '^mtsi_') public (mts_)"
echo "kernel_library_rules: 3 passed, 0 failed"
