#include "region.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void region_hdr_init(struct region_hdr *h, enum region_kind kind, uint64_t size,
		     uint64_t generation)
{
	memset(h, 0, sizeof(*h));
	h->magic = REGION_MAGIC;
	h->layout_version = REGION_LAYOUT_VERSION;
	h->kind = kind;
	h->size = size;
	h->generation = generation;
}

int region_hdr_check(const struct region_hdr *h, enum region_kind kind, uint64_t mapped_size,
		     char *why, size_t why_len)
{
	if (mapped_size < sizeof(*h))
		return util_reason(why, why_len, -EINVAL,
				   "region of %" PRIu64 " bytes is smaller than its header",
				   mapped_size);
	if (h->magic != REGION_MAGIC)
		return util_reason(why, why_len, -EINVAL,
				   "bad magic 0x%" PRIx64 " (not a shoal region)", h->magic);
	if (h->layout_version != REGION_LAYOUT_VERSION)
		return util_reason(why, why_len, -EINVAL,
				   "layout version %u, expected %u (mixed shoal builds?)",
				   h->layout_version, REGION_LAYOUT_VERSION);
	if (h->kind != (uint32_t)kind)
		return util_reason(why, why_len, -EINVAL, "region is of kind %u, expected %s",
				   h->kind, region_kind_name(kind));
	if (h->size != mapped_size)
		return util_reason(why, why_len, -EINVAL,
				   "header says %" PRIu64 " bytes but %" PRIu64 " are mapped",
				   h->size, mapped_size);
	return 0;
}

static const char *const kind_names[] = {
    [REGION_RAM] = "ram",
    [REGION_BOARD] = "board",
    [REGION_SHADOW] = "shadow",
    [REGION_JIT] = "jit",
};

const char *region_kind_name(int kind)
{
	if (kind <= 0 || (size_t)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return NULL;
	return kind_names[kind];
}

int region_kind_parse(const char *name)
{
	for (size_t i = 1; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (kind_names[i] && strcmp(kind_names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}
