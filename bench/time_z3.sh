#!/bin/bash
# usage: bench/time_z3.sh LABEL (with the venv active): every fig7-both-capable safety property cold
# (spacer --unbounded, one fresh process each; PROPS=... to pick, TMO=seconds) and BMC on every
# expected safety violation of the catalog; NOSPACER=1 / NOBMC=1 skip a half. Per line: wall
# seconds, CPU seconds (user+sys of the process, GNU time), the verdict; the load average first.
cd "$(dirname "$0")/.."
label=$1; shift
out=${OUT:-/tmp}/z3-times-$label.txt; : > $out
tf=$(mktemp)
echo "# $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')" | tee -a $out
props=${PROPS:-"H-1 H-2 S-1 S-2 S-3 S-4 S-5 S-11 S-12 S-13 S-14 L-6 T-2 ND-28"}
if [ -z "$NOSPACER" ]; then
for p in $props; do
  s=$(date +%s.%N)
  v=$(/usr/bin/time -f "%U %S" -o $tf ndcheck prove fig7-both-capable $p --engine spacer --unbounded --timeout ${TMO:-120} --format json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('verdict'), '|', d.get('note','')[:110])" 2>&1)
  e=$(date +%s.%N)
  cpu=$(awk 'END{print $1+$2}' $tf)
  printf "spacer fig7 %-6s %6.2f %6.2f %s\n" $p $(echo "$e - $s" | bc) $cpu "$v" | tee -a $out
done
fi
if [ -z "$NOBMC" ]; then
for np in allow-clear-grace:S-2 crossing-ike-loss:L-6 fig19-lossy:H-1 fig7-lossy:L-6 fig7-premature-timeouts:L-6 ge-marking-after:S-6 ge-marking-after:S-7 ge-server-only:S-7 guaranteed-encryption:S-7 nat-boundary:S-1 nat-boundary:T-2 nd-client-transport-server:S-14 qm3-race:S-14 require-inbound-auth-failure:H-1 sa-expiry-peer-gone:S-14 sa-expiry-rekey:S-14; do
  n=${np%%:*}; p=${np##*:}
  s=$(date +%s.%N)
  v=$(/usr/bin/time -f "%U %S" -o $tf ndcheck prove $n $p --engine bmc --format json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('verdict'), '|', d.get('note','')[:80])" 2>&1)
  e=$(date +%s.%N)
  cpu=$(awk 'END{print $1+$2}' $tf)
  printf "bmc %-28s %-6s %6.2f %6.2f %s\n" $n $p $(echo "$e - $s" | bc) $cpu "$v" | tee -a $out
done
fi
echo "# $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')" | tee -a $out
rm -f $tf
