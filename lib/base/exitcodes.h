/* The exit-code table of shop (SPEC §2), in one place. Append-only: a code,
 * once published, keeps its meaning. shop(7) documents the same table and a
 * test checks that the two agree. The names avoid <sysexits.h>'s macros. */
#ifndef SHOP_EXITCODES_H
#define SHOP_EXITCODES_H

enum {
	SHOP_OK = 0,           /* done */
	SHOP_REFUSED = 1,      /* refused by a business rule */
	SHOP_USAGE = 64,       /* unknown command or flag, missing argument */
	SHOP_DATAERR = 65,     /* bad input data; nothing was written */
	SHOP_NOTFOUND = 66,    /* no such SKU, order, cart, file */
	SHOP_UNAVAILABLE = 69, /* an outside service failed after retries */
	SHOP_SOFTWARE = 70,    /* internal error (a bug) */
	SHOP_IOERR = 74,       /* I/O error on the store or a file */
	SHOP_TEMPFAIL = 75,    /* store busy or concurrent change after retries */
	SHOP_CONFIG = 78,      /* bad configuration */
};

#endif
