/** @file
 * The block starts that translations hold inside them (not their entries),
 * so shoal-jit can put off a request for one once. In a boot, requests wait
 * milliseconds in bursts, and meanwhile every block of a hot function asks
 * for its own region: the instructions compiled were four times the
 * distinct ones. Such a block usually runs inside the translation that
 * holds it; if it is also entered on its own, its interpreter block asks
 * again (cpu-worker/jit.c's JIT_RESEND_TRIES) and is compiled then. */
#ifndef SHOAL_JIT_COVER_H
#define SHOAL_JIT_COVER_H

#include <stdint.h>

#include "translate.h"

/** Slots of the set (a bounded hash table: old entries make way). */
#define JIT_COVER_SLOTS (1u << 16)

/** One block start: its jit_key(), the page generation of the bytes the
 * translation holding it was made from, and whether a request for it was
 * put off already. */
struct jit_cover_slot {
	uint64_t key; /* 0: empty */
	uint32_t gen;
	uint32_t put_off;
};

/** The set. */
struct jit_cover {
	struct jit_cover_slot *slot; /* JIT_COVER_SLOTS */
};

/** Allocates an empty set; returns 0 or -ENOMEM. */
int jit_cover_init(struct jit_cover *c);

/** Notes the blocks of translation `tr` (made from page `page_pa`, of
 * generation `gen`, in `mode`) other than its entry. */
void jit_cover_note(struct jit_cover *c, const struct jit_tr *tr, uint64_t page_pa, unsigned mode,
		    uint32_t gen);

/** Whether a request for `key` (its page now of generation `gen`) is put
 * off: once, when a translation made from the same bytes holds it. */
int jit_cover_put_off(struct jit_cover *c, uint64_t key, uint32_t gen);

#endif
