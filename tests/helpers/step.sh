#!/bin/sh
# step.sh NAME [ARG...]: a saga step for the tests. Appends "NAME ARG..."
# (one argument per line, after a line "== NAME") to $STEP_DIR/calls, then
# exits with the next code of $STEP_DIR/NAME.plan (one per line, consumed
# from the top; none left or no file: 0). A code "sleep:S" sleeps S seconds
# and then exits 0. On success prints {"step": NAME, "n": CALLS-OF-NAME}.
set -eu
name=$1
d=${STEP_DIR:?}
{
	echo "== $name"
	for a in "$@"; do printf '%s\n' "$a"; done
} >>"$d/calls"
code=0
plan="$d/$name.plan"
if [ -s "$plan" ]; then
	code=$(head -n 1 "$plan")
	tail -n +2 "$plan" >"$plan.tmp" && mv "$plan.tmp" "$plan"
fi
case $code in
sleep:*) sleep "${code#sleep:}"; code=0 ;;
esac
if [ "$code" = 0 ]; then
	n=$(grep -c "^== $name\$" "$d/calls")
	printf '{"step":"%s","n":%s}\n' "$name" "$n"
else
	echo "step.sh: $name: failing with $code" >&2
fi
exit "$code"
