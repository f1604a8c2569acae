/* outbox: see outbox.h. */
#include "outbox.h"

#include "base/clock.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/store.h"

int outbox_emit(shop *s, const char *type, const char *subject, jv data, shop_err *e)
{
	char id[ID_MAX], now[32];
	id_new("evt", id);
	clock_now_text(now);
	buf d = {0};
	json_dump(data, &d);
	jv_free(data);
	sqlite3_stmt *st =
		store_stmt(s->st, "INSERT INTO outbox (id, type, subject, at, data) VALUES (?1, ?2, ?3, ?4, ?5)", e);
	int rc = e->code;
	if (st) {
		store_bind_text(st, 1, id);
		store_bind_text(st, 2, type);
		store_bind_text(st, 3, subject);
		store_bind_text(st, 4, now);
		sqlite3_bind_text(st, 5, d.p, (int)d.len, SQLITE_STATIC);
		rc = store_done(s->st, st, e, "outbox");
	}
	buf_free(&d);
	return rc;
}
