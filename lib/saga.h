/* saga: sagas as YAML files of commands (shop-saga(5)), run as child
 * processes, with a durable journal per run (base/journal.h) from which a
 * run killed at any instant is resumed: forward to the end, or, when a step
 * fails before the pivot, back through the compensations of the steps done.
 *
 * Journals live in DATA/journal/ID.jsonl (DATA: the store's data dir).
 * Saga files are found as DATA/sagas/NAME.yaml, else among the built-in
 * ones (place-order, cancel, return); a NAME with a '/' is a file's path.
 *
 * Exit codes of a run: 0 completed; 1 compensated (a step failed for good
 * before the pivot); 75 stuck (retries ran out after the pivot, or a
 * compensation keeps failing: recover goes on with it), or the journal is
 * held by another process; 78 a bad saga file (nothing run); 66 no such
 * saga; 74 the journal cannot be written. */
#ifndef SHOP_SAGA_H
#define SHOP_SAGA_H

#include <jv.h>
#include "shop.h"

/* Start saga name for id (the input: context key "order_id" unless the
 * file says otherwise); rec (consumed; may be jv_null()) is the record it
 * came from, available as .input. Emits the saga record at the end. */
int saga_run(shop *s, const char *name, const char *id, jv rec, shop_emit emit, void *arg);
/* Go on with a saga (sag_ id), or with the unfinished sagas of an order
 * (any other id; an order with none gets place-order). */
int saga_resume(shop *s, const char *id, shop_emit emit, void *arg);
/* Resume every unfinished saga no process holds; 75 when any is stuck. */
int saga_recover(shop *s, shop_emit emit, void *arg);
int saga_status(shop *s, const char *id, shop_emit emit, void *arg);
int saga_list(shop *s, int incomplete, shop_emit emit, void *arg);
int saga_log(shop *s, const char *id, shop_emit emit, void *arg);
/* Compensate now (before the pivot only). */
int saga_abort(shop *s, const char *id, shop_emit emit, void *arg);
/* Graphviz dot of a saga file (name) or of a run (sag_ id), appended to
 * out. */
int saga_graph(shop *s, const char *what, buf *out);
/* The context key a saga's runs are keyed by (its file's "input"). */
int saga_input_key(shop *s, const char *name, char out[72]);
/* Check a saga file (name or path) without running it. */
int saga_check(shop *s, const char *name, shop_emit emit, void *arg);
/* Move finished journals older than older_ms to DATA/journal/archive/. */
int saga_archive(shop *s, int64_t older_ms, shop_emit emit, void *arg);

/* The trace source for shop-order trace: the journal entries of the
 * order's sagas. */
int saga_trace(shop *s, const char *source, const char *order_id, jv *recs);

#endif
