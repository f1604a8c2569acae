/* fields: the checks of record fields that every importer shares (the
 * catalog's products, the order import's orders), so that a SKU, a text or
 * an amount of money is taken, or refused with the same words, whichever
 * program reads it.
 *
 * Each check takes the field's value from the record's tree (json.h; NULL
 * when the record lacks it) and the field's name as messages show it
 * ("sku", "lines[3].unit_price"). A refusal is SHOP_DATAERR, with e set to
 * "field 'NAME': why" (the first error sticks, util.h). */
#ifndef SHOP_FIELDS_H
#define SHOP_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include "base/json.h"
#include "base/money.h"
#include "base/util.h"

/* The longest SKU, in bytes. */
#define FIELD_SKU_MAX 64
/* The largest amount of money, 2^53 - 1: above it a JSON number no longer
 * holds every integer exactly. */
#define FIELD_MONEY_MAX 9007199254740991LL

/* Flags of field_text. */
enum {
	FIELD_MULTILINE = 1, /* newline, tab and carriage return are allowed */
	FIELD_NONEMPTY = 2,  /* "" is refused ("empty") */
};

/* 1 when v is absent (NULL) or JSON null: either way, not given. */
int field_absent(const jnode *v);

/* A text field: a string of at most max bytes, without NUL and without
 * control characters (DEL included) except, with FIELD_MULTILINE, newline,
 * tab and carriage return; with FIELD_NONEMPTY, not "". An absent or null
 * v is "missing": a field with a default tests field_absent first. 0 with
 * *out a heap copy (NUL-terminated, the caller's to free), or SHOP_DATAERR
 * with e set and *out untouched. */
int field_text(const jnode *v, const char *name, size_t max, int flags, char **out, shop_err *e);

/* A SKU as the catalog takes it: a string of 1..FIELD_SKU_MAX bytes of
 * printable ASCII without space, '/' or '\'. Checks only (v is borrowed):
 * 0, or SHOP_DATAERR with e set. */
int field_sku(const jnode *v, const char *name, shop_err *e);

/* Money (SPEC §2) in currency cur: integer minor units (a JSON number
 * without fraction, below 2^53), or a decimal string converted exactly by
 * the currency's exponent (money_parse_decimal); 0 or more. A JSON number
 * with a fraction is refused with a message that says to write minor units
 * or a decimal string; one of 2^53 or more as too large. 0 with *out set,
 * or SHOP_DATAERR with e set. */
int field_money(const jnode *v, const char *name, const currency *cur, int64_t *out, shop_err *e);

#endif
