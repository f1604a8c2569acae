#!/usr/bin/env bats
# shop-inv model check: a seeded random sequence of adjust, reserve,
# release, commit and expire operations over 3 SKUs and 2 warehouses, run
# by 4 worker processes at once. Which operations succeed depends on the
# interleaving, so each worker logs every operation's exit code and the
# records it printed; the expected stock and ledger are then rebuilt from
# those logs alone and compared exactly with the store.
#
# Replay a failure with the seed it prints: SHOP_MODEL_SEED=N bats this-file
load helpers/common

SEED=${SHOP_MODEL_SEED:-20261129}
WORKERS=4

setup() {
	common_setup
	cat >shop.yaml <<-'EOF'
		warehouses:
		  - id: main
		    name: Main warehouse
		    region: us-east
		    priority: 1
		  - id: east
		    name: East warehouse
		    region: us-east
		    priority: 2
	EOF
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
	write_scripts
}

teardown() {
	run -0 --separate-stderr shop-inv reconcile
	[ -z "$output" ]
	check_integrity
}

write_scripts() {
	# gen.py SEED WORKERS OPS: ops.W.jsonl for each worker (W from 1), and
	# ops.0.jsonl, the initial stock, run before the workers.
	cat >gen.py <<-'PY'
		import datetime, json, random, sys
		seed, nworkers, nops = (int(a) for a in sys.argv[1:4])
		rng = random.Random(seed)
		SKUS = ["MUG-01", "CBL-USB-C-1M", "CHG-65W"]
		WHS = ["main", "east"]
		T0 = datetime.datetime(2026, 11, 29, 12, 0, 0)
		# Each worker's clock walks through 50 minutes (holds last 15), at its
		# own pace: the fast ones expire what the slow ones still hold.
		SPAN = 50 * 60
		PACE = [0.9, 1.0, 1.0, 1.15, 1.1, 0.95, 1.05, 1.2]

		def stamp(t):
		    return t.strftime("%Y-%m-%dT%H:%M:%SZ")

		with open("ops.0.jsonl", "w") as f:
		    for n, (sku, wh) in enumerate((s, w) for s in SKUS for w in WHS):
		        f.write(json.dumps({"op": "set", "sku": sku, "warehouse": wh, "qty": 15, "now": stamp(T0),
		                            "i": n}) + "\n")
		# First the kind of every operation, so that commits and releases can
		# name orders that other workers reserve at about the same time.
		kinds = {}
		for w in range(1, nworkers + 1):
		    for i in range(nops):
		        x = rng.random()
		        kinds[w, i] = ("reserve" if x < 0.38 else "again" if x < 0.41 else "commit" if x < 0.56
		                       else "release" if x < 0.68 else "expire" if x < 0.75 else "adjust")
		reserves = sorted((i, w) for (w, i), k in kinds.items() if k == "reserve")
		lines = {}
		for i, w in reserves:
		    skus = rng.sample(SKUS, rng.choice([1, 1, 2]))
		    lines["ord_w%d_%d" % (w, i)] = [{"sku": s, "qty": rng.randint(1, 4)} for s in skus]

		def some_order(i):
		    # A reserve of any worker: mostly a recent one, else one of the
		    # last 200 operations (or a little ahead: maybe not made yet).
		    lo, hi = (i - 30, i) if rng.random() < 0.7 else (i - 200, i + 10)
		    near = ["ord_w%d_%d" % (w, j) for (j, w) in reserves if lo <= j <= hi]
		    return rng.choice(near) if near else None

		for w in range(1, nworkers + 1):
		    step = SPAN * PACE[(w - 1) % len(PACE)] / nops
		    with open("ops.%d.jsonl" % w, "w") as f:
		        for i in range(nops):
		            k = kinds[w, i]
		            op = {"op": k, "now": stamp(T0 + datetime.timedelta(seconds=int(i * step)))}
		            if k == "reserve":
		                op["order"] = "ord_w%d_%d" % (w, i)
		                op["lines"] = lines[op["order"]]
		            elif k == "again":
		                # The same order again: idempotent, same lines.
		                op["op"] = "reserve"
		                op["order"] = some_order(i)
		                if op["order"] is None:
		                    op = {"op": "expire", "now": op["now"]}
		                else:
		                    op["lines"] = lines[op["order"]]
		            elif k in ("commit", "release"):
		                o = some_order(i)
		                # Now and then an order that never exists.
		                op["order"] = o if o and rng.random() > 0.04 else "ord_ghost_w%d_%d" % (w, i)
		            elif k == "adjust":
		                op["sku"] = rng.choice(SKUS)
		                op["warehouse"] = rng.choice(WHS)
		                n = rng.randint(1, 6)
		                op["delta"] = n if rng.random() < 0.62 else -n
		            op["i"] = i
		            f.write(json.dumps(op) + "\n")
	PY

	# run.py W: run ops.W.jsonl one shop-inv process per operation, each
	# with its own SHOP_NOW; log.W.jsonl gets, for every operation, the
	# operation, its exit code, the records it printed and its stderr.
	cat >run.py <<-'PY'
		import json, os, subprocess, sys
		w = sys.argv[1]
		env = dict(os.environ)
		with open("ops.%s.jsonl" % w) as ops, open("log.%s.jsonl" % w, "w") as log:
		    for line in ops:
		        op = json.loads(line)
		        k, stdin = op["op"], None
		        if k == "set":
		            argv = ["set", op["sku"], op["warehouse"], str(op["qty"])]
		        elif k == "adjust":
		            argv = ["adjust", op["sku"], op["warehouse"], "%+d" % op["delta"], "--reason", "model"]
		        elif k == "reserve":
		            argv = ["reserve"]
		            stdin = json.dumps({"id": op["order"], "lines": op["lines"]}) + "\n"
		        elif k in ("commit", "release"):
		            argv = [k, "--order", op["order"]]
		        else:
		            argv = ["expire"]
		        env["SHOP_NOW"] = op["now"]
		        p = subprocess.run(["shop-inv"] + argv, input=stdin if stdin else "", env=env,
		                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
		        out = []
		        for l in p.stdout.splitlines():
		            try:
		                out.append(json.loads(l))
		            except ValueError:
		                out.append({"unparsed": l})
		        op.update(w=w, rc=p.returncode, out=out, err=p.stderr)
		        log.write(json.dumps(op) + "\n")
	PY

	# check.py DB LOG...: the expected state from the logs alone, against
	# the store. Prints every difference; exit 1 when any.
	cat >check.py <<-'PY'
		import collections, datetime, json, sqlite3, sys
		db, logs = sys.argv[1], sys.argv[2:]
		problems = []
		def bad(msg):
		    problems.append(msg)
		ALLOWED = {"set": {0}, "adjust": {0, 1}, "reserve": {0, 1}, "release": {0}, "commit": {0, 1, 66},
		           "expire": {0}}
		RANK = {"held": 0, "committed": 1, "released": 2, "expired": 2}
		TTL = datetime.timedelta(minutes=15)
		def ts(s):
		    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")

		ops = [json.loads(l) for p in logs for l in open(p)]
		on_hand = collections.Counter()        # (sku, wh) -> expected on hand
		reserved = collections.Counter()       # (sku, wh) -> expected reserved
		res = {}                               # reservation id -> (order, sku, wh, qty, expires_at)
		states = collections.defaultdict(set)  # reservation id -> states printed for it
		expired_by = collections.Counter()     # reservation id -> expire runs that printed it
		snapshot = {}                          # (sku, wh, version) -> (on_hand, reserved)
		stats = collections.Counter()
		for e in ops:
		    k, rc, out, err = e["op"], e["rc"], e["out"], e["err"]
		    tag = "worker %s op %s (%s %s, SHOP_NOW=%s)" % (e["w"], e["i"], k, e.get("order", e.get("sku", "")),
		                                                  e["now"])
		    stats[k, rc] += 1
		    if rc not in ALLOWED[k]:
		        bad("%s: exit %d: %s" % (tag, rc, err.strip()))
		        continue
		    if any("unparsed" in r for r in out):
		        bad("%s: printed a line that is not JSON: %r" % (tag, out))
		        continue
		    if rc:
		        el = err.splitlines()
		        if out:
		            bad("%s: exit %d but printed %r" % (tag, rc, out))
		        if len(el) != 1 or not el[0].startswith("shop-inv: "):
		            bad("%s: exit %d, stderr not one shop-inv line: %r" % (tag, rc, err))
		        elif k == "reserve" and "insufficient stock" not in err:
		            bad("%s: refused: %s" % (tag, err.strip()))
		        elif k == "commit" and rc == 66 and "no reservations" not in err:
		            bad("%s: not found: %s" % (tag, err.strip()))
		        elif k == "commit" and rc == 1 and "expired" not in err and "nothing is held" not in err:
		            bad("%s: refused: %s" % (tag, err.strip()))
		        elif k == "adjust" and "on hand" not in err:
		            bad("%s: refused: %s" % (tag, err.strip()))
		        continue
		    if err:
		        bad("%s: exit 0 with stderr %r" % (tag, err))
		    if k in ("set", "adjust"):
		        if len(out) != 1 or out[0].get("kind") != "stock" or \
		           (out[0]["sku"], out[0]["warehouse"]) != (e["sku"], e["warehouse"]):
		            bad("%s: printed %r" % (tag, out))
		            continue
		        r = out[0]
		        on_hand[e["sku"], e["warehouse"]] += e["delta"] if k == "adjust" else e["qty"]
		        # Two changes never leave the same version: no lost update.
		        key, val = (r["sku"], r["warehouse"], r["version"]), (r["on_hand"], r["reserved"])
		        if snapshot.setdefault(key, val) != val:
		            bad("%s: version %s of %s/%s printed as %r and as %r" % (tag, r["version"], r["sku"],
		                r["warehouse"], snapshot[key], val))
		        if not 0 <= r["reserved"] <= r["on_hand"] or r["available"] != r["on_hand"] - r["reserved"]:
		            bad("%s: printed %r" % (tag, r))
		        continue
		    for r in out:
		        if r.get("kind") != "reservation" or r.get("state") not in RANK:
		            bad("%s: printed %r" % (tag, r))
		            continue
		        info = (r["order_id"], r["sku"], r["warehouse"], r["qty"], r["expires_at"])
		        if res.setdefault(r["id"], info) != info:
		            bad("%s: reservation %s printed as %r and as %r" % (tag, r["id"], res[r["id"]], info))
		        states[r["id"]].add(r["state"])
		        if ts(r["expires_at"]) - ts(r["created_at"]) != TTL:
		            bad("%s: %s holds from %s to %s" % (tag, r["id"], r["created_at"], r["expires_at"]))
		        if k != "expire" and r["order_id"] != e["order"]:
		            bad("%s: printed a reservation of %s" % (tag, r["order_id"]))
		    got = [r["state"] for r in out]
		    if k == "reserve":
		        # All or nothing: every line held, in full.
		        want, have = collections.Counter(), collections.Counter()
		        for l in e["lines"]:
		            want[l["sku"]] += l["qty"]
		        for r in out:
		            have[r["sku"]] += r["qty"]
		        if want != have:
		            bad("%s: asked %r, printed %r" % (tag, dict(want), out))
		        # What the order holds or took: one reservation's worth, one state.
		        if len(set(got)) != 1 or not set(got) <= {"held", "committed"}:
		            bad("%s: printed the states %r" % (tag, got))
		    elif k == "commit" and ("committed" not in got or not set(got) <= {"committed", "released", "expired"}):
		        # An order reserved again after its holds lapsed also shows them.
		        bad("%s: exit 0 and printed %r" % (tag, out))
		    elif k == "release" and not set(got) <= {"released", "expired"}:
		        bad("%s: printed %r" % (tag, out))
		    elif k == "expire":
		        for r in out:
		            expired_by[r["id"]] += 1
		            if r["state"] != "expired" or r["expires_at"] > e["now"]:
		                bad("%s: printed %r" % (tag, r))
		    if out:
		        stats[k, "printed"] += 1

		# Each reservation: the states printed for it are a path of the state
		# machine (held -> committed -> released, held -> released, held ->
		# expired); where that path ends decides what it holds and what it took.
		final = {}
		for rid, st in states.items():
		    order, sku, wh, qty, _ = res[rid]
		    if "held" not in st:
		        bad("reservation %s (%s): never printed as held by the reserve that made it: %r" % (rid, order, st))
		    if {"released", "expired"} <= st or {"committed", "expired"} <= st:
		        bad("reservation %s (%s): impossible states %r" % (rid, order, sorted(st)))
		    if expired_by[rid] > 1:
		        bad("reservation %s (%s): expired by %d expire runs" % (rid, order, expired_by[rid]))
		    final[rid] = max(st, key=RANK.get)
		    if final[rid] == "held":
		        reserved[sku, wh] += qty
		    elif final[rid] == "committed":
		        on_hand[sku, wh] -= qty

		con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
		stock = {(s, w): (oh, rs) for s, w, oh, rs in con.execute("SELECT sku, warehouse, on_hand, reserved FROM stock")}
		ledger = {(s, w): (oh, rs) for s, w, oh, rs in con.execute(
		    "SELECT sku, warehouse, sum(on_hand_delta), sum(reserved_delta) FROM ledger GROUP BY sku, warehouse")}
		for key in sorted(set(stock) | set(ledger) | set(on_hand) | set(reserved)):
		    want = (on_hand[key], reserved[key])
		    if stock.get(key) != want:
		        bad("stock %s/%s: store has (on_hand, reserved) %r, the logs say %r" % (key + (stock.get(key), want)))
		    if ledger.get(key) != want:
		        bad("ledger %s/%s: sums (on_hand, reserved) %r, the logs say %r" % (key + (ledger.get(key), want)))
		stored = {r[0]: r[1:] for r in con.execute(
		    "SELECT id, order_id, sku, warehouse, qty, expires_at, state FROM reservation")}
		for rid in sorted(set(stored) | set(res)):
		    if rid not in res:
		        bad("reservation %s %r: in the store, printed by no reserve" % (rid, stored[rid]))
		    elif rid not in stored:
		        bad("reservation %s %r: printed, not in the store" % (rid, res[rid]))
		    elif stored[rid][:5] != res[rid] or stored[rid][5] != final[rid]:
		        bad("reservation %s: store has %r, the logs say %r, %s" % (rid, stored[rid], res[rid], final[rid]))

		print("operations: %d; reservations: %d (final: %s)" % (len(ops), len(res),
		      dict(collections.Counter(final.values()))))
		for (k, rc), n in sorted(stats.items(), key=str):
		    print("  %-8s %-7s %d" % (k, rc, n))
		for key in sorted(set(stock)):
		    print("  stock %s/%s: on_hand %d reserved %d" % (key + stock[key]))
		for p in problems[:40]:
		    print("PROBLEM:", p)
		if len(problems) > 40:
		    print("... and %d more problems" % (len(problems) - 40))
		# What the counts must reach for the run to have tested something.
		need = [("reserve", 0), ("reserve", 1), ("commit", 0), ("commit", 1), ("release", "printed"),
		        ("expire", "printed"), ("adjust", 0), ("adjust", 1)]
		thin = [k for k in need if stats[k] < 5]
		if thin:
		    print("too few operations of:", thin)
		sys.exit(1 if problems or thin else 0)
	PY
}

@test "model: $WORKERS concurrent workers of seeded random operations; the logs alone predict the store exactly" {
	local ops=500
	# ASan binaries are about 6 times slower: fewer operations (still 1,000).
	case $SHOP_BUILD in *build-asan) ops=250 ;; esac
	echo "seed $SEED, $WORKERS workers x $ops operations (replay: SHOP_MODEL_SEED=$SEED)"
	echo "# model seed $SEED ($WORKERS x $ops ops)" >&3
	run -0 --separate-stderr "$PY" gen.py "$SEED" "$WORKERS" "$ops"
	[ "$(cat ops.[1-9]*.jsonl | wc -l)" -eq $((WORKERS * ops)) ]
	# The initial stock first, then the workers all at once.
	run -0 --separate-stderr "$PY" run.py 0
	[ -z "$stderr" ]
	local pids=() w s
	for ((w = 1; w <= WORKERS; w++)); do
		"$PY" run.py "$w" 2>"run.$w.err" 3>&- &
		pids+=($!)
	done
	for ((w = 1; w <= WORKERS; w++)); do
		s=0
		wait "${pids[w - 1]}" || s=$?
		[ "$s" -eq 0 ] || { echo "worker $w: exit $s: $(cat "run.$w.err")"; return 1; }
	done
	[ "$(cat log.[1-9]*.jsonl | wc -l)" -eq $((WORKERS * ops)) ]
	run --separate-stderr "$PY" check.py "$SHOP_DB" log.*.jsonl
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# The store agrees with itself too.
	run -0 --separate-stderr shop-inv reconcile
	[ -z "$output" ]
	check_integrity
	# And the check is not blind: one unit lost anywhere is caught.
	sqlite3 "$SHOP_DB" ".backup lost.db"
	sqlite3 lost.db "UPDATE stock SET on_hand = on_hand + 1 WHERE (sku, warehouse) IN
		(SELECT sku, warehouse FROM stock ORDER BY sku, warehouse LIMIT 1)"
	run -1 --separate-stderr "$PY" check.py lost.db log.*.jsonl
	[[ $output == *"PROBLEM: stock "* ]]
	sqlite3 "$SHOP_DB" ".backup state.db"
	sqlite3 state.db "UPDATE reservation SET state = 'released'
		WHERE id = (SELECT id FROM reservation WHERE state = 'expired' ORDER BY id LIMIT 1)"
	run -1 --separate-stderr "$PY" check.py state.db log.*.jsonl
	[[ $output == *"PROBLEM: reservation "* ]]
}
