#!/bin/sh
# Checks two rules of the kernel library (a static archive):
#  - it references nothing from libm (firmware and MicroPython modules cannot
#    link it; the kernels carry their own exp/tanh/rsqrt);
#  - it has no writable static data (.data/.bss are empty; .data.rel.ro
#    holds const tables of pointers, read-only after relocation), so it is
#    reentrant and its state lives only in caller-owned buffers.
#
#   check_kernel_library.sh LIBRARY [NM [SIZE]]    (the target's binutils)
set -eu
lib=$1
nm=${2:-nm}
size=${3:-size}
libm='^(exp|expf|exp2f|expm1f|log|logf|pow|powf|sqrt|sqrtf|tanh|tanhf|sinf|cosf|erff|fabsf)$'
bad=$("$nm" -u "$lib" | awk '{print $NF}' | grep -E "$libm" || true)
if [ -n "$bad" ]; then
  echo "kernel library references libm: $bad"
  echo "kernel_library_rules: 0 passed, 1 failed"
  exit 1
fi
writable=$("$size" -A "$lib" | awk '$1 ~ /^\.(data|bss)/ && $1 !~ /^\.data\.rel\.ro/ && $2 != 0 {print}')
if [ -n "$writable" ]; then
  echo "kernel library has writable static data:"
  echo "$writable"
  echo "kernel_library_rules: 1 passed, 1 failed"
  exit 1
fi
echo "external symbols: $("$nm" -u "$lib" | awk '{print $NF}' | grep -v ':$' | sort -u | tr '\n' ' ')"
echo "kernel_library_rules: 2 passed, 0 failed"
