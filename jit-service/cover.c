#include "cover.h"

#include <errno.h>
#include <stdlib.h>

#include "../common/jitcache.h"

#define JIT_COVER_PROBES 8

int jit_cover_init(struct jit_cover *c)
{
	c->slot = calloc(JIT_COVER_SLOTS, sizeof(*c->slot));
	return c->slot ? 0 : -ENOMEM;
}

/* The slot of `key`, or the one to take for it (when the probes find
 * neither it nor a free one, the first probed goes). */
static struct jit_cover_slot *slot_of(struct jit_cover *c, uint64_t key)
{
	unsigned at = (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 40) & (JIT_COVER_SLOTS - 1);
	struct jit_cover_slot *free_slot = NULL;
	for (unsigned i = 0; i < JIT_COVER_PROBES; i++) {
		struct jit_cover_slot *s = &c->slot[(at + i) & (JIT_COVER_SLOTS - 1)];
		if (s->key == key)
			return s;
		if (!s->key && !free_slot)
			free_slot = s;
	}
	return free_slot ? free_slot : &c->slot[at];
}

void jit_cover_note(struct jit_cover *c, const struct jit_tr *tr, uint64_t page_pa, unsigned mode,
		    uint32_t gen)
{
	for (unsigned k = 1; k < tr->nblocks; k++) {
		uint64_t key = jit_key(page_pa + tr->blk[k].off, mode);
		struct jit_cover_slot *s = slot_of(c, key);
		if (s->key != key || s->gen != gen)
			*s = (struct jit_cover_slot){.key = key, .gen = gen};
	}
}

int jit_cover_put_off(struct jit_cover *c, uint64_t key, uint32_t gen)
{
	struct jit_cover_slot *s = slot_of(c, key);
	if (s->key != key || s->gen != gen || s->put_off)
		return 0;
	s->put_off = 1;
	return 1;
}
