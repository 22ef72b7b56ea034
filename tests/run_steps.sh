#!/usr/bin/env bash
# run_steps.sh MAKE -- STEP... - runs each make target in order, keeps going
# past a failure, and ends with one summary line "N passed, N failed".
set -u
make_cmd=$1
shift 2
passed=0
failed=0
failed_names=()
for step in "$@"; do
	echo "=== $step"
	start=$(date +%s)
	if $make_cmd --no-print-directory "$step"; then
		passed=$((passed + 1))
		echo "=== $step: ok ($(( $(date +%s) - start )) s)"
	else
		failed=$((failed + 1))
		failed_names+=("$step")
		echo "=== $step: FAILED ($(( $(date +%s) - start )) s)"
	fi
done
[ $failed -gt 0 ] && echo "failed steps: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
