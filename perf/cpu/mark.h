/* shoalmark: a CPU benchmark in the spirit of CoreMark (our own code): each
 * iteration runs a linked-list workload (build, find, reverse, merge
 * sort), a small integer matrix multiply, a state machine that scans a
 * text for numbers, and a CRC-16 over the results. Working set about 4 KiB,
 * so it measures the CPU (or the emulator's code), not memory.
 * Freestanding: the same file builds for the bare-metal guest and natively. */
#ifndef SHOAL_MARK_H
#define SHOAL_MARK_H

#include <stdint.h>

#define MARK_NODES 64
#define MARK_N 12
#define MARK_TEXT 256

struct mark_node {
	struct mark_node *next;
	int32_t key;
	int16_t data;
	int16_t pad;
};

/* Page-aligned: the data never shares a page with code (a store to a page
 * that holds translated code costs every emulator an invalidation). */
static struct {
	struct mark_node pool[MARK_NODES];
	int32_t a[MARK_N][MARK_N], b[MARK_N][MARK_N], c[MARK_N][MARK_N];
	char text[MARK_TEXT];
} mark_data __attribute__((aligned(4096)));
#define mark_pool mark_data.pool
#define mark_a mark_data.a
#define mark_b mark_data.b
#define mark_c mark_data.c
#define mark_text mark_data.text

static uint16_t mark_crc16(uint16_t crc, uint32_t v)
{
	for (int i = 0; i < 32; i++) {
		unsigned bit = (crc ^ v) & 1u;
		crc >>= 1;
		v >>= 1;
		if (bit)
			crc ^= 0xa001;
	}
	return crc;
}

static struct mark_node *mark_reverse(struct mark_node *l)
{
	struct mark_node *r = 0;
	while (l) {
		struct mark_node *n = l->next;
		l->next = r;
		r = l;
		l = n;
	}
	return r;
}

/* Merge sort of a list by key (bottom-up, no recursion). */
static struct mark_node *mark_sort(struct mark_node *l)
{
	if (!l)
		return l;
	for (int width = 1;; width *= 2) {
		struct mark_node *p = l, *head = 0, *tail = 0;
		int merges = 0;
		while (p) {
			merges++;
			struct mark_node *q = p;
			int ps = 0;
			while (ps < width && q) {
				ps++;
				q = q->next;
			}
			int qs = width;
			while (ps > 0 || (qs > 0 && q)) {
				struct mark_node *e;
				if (ps == 0) {
					e = q;
					q = q->next;
					qs--;
				} else if (qs == 0 || !q || p->key <= q->key) {
					e = p;
					p = p->next;
					ps--;
				} else {
					e = q;
					q = q->next;
					qs--;
				}
				if (tail)
					tail->next = e;
				else
					head = e;
				tail = e;
			}
			p = q;
		}
		if (tail) /* always: the list is not empty */
			tail->next = 0;
		l = head;
		if (merges <= 1)
			return l;
	}
}

static uint16_t mark_list(uint32_t seed, uint16_t crc)
{
	struct mark_node *l = 0;
	uint32_t x = seed | 1;
	for (int i = 0; i < MARK_NODES; i++) {
		x = x * 1103515245u + 12345u;
		mark_pool[i].key = (int32_t)(x >> 8) & 0xffff;
		mark_pool[i].data = (int16_t)i;
		mark_pool[i].next = l;
		l = &mark_pool[i];
	}
	for (int f = 0; f < 8; f++) { /* finds: the node whose data is f*7 */
		int pos = 0;
		struct mark_node *n = l;
		while (n && n->data != f * 7) {
			n = n->next;
			pos++;
		}
		crc = mark_crc16(crc, (uint32_t)pos);
	}
	l = mark_reverse(l);
	l = mark_sort(l);
	for (struct mark_node *n = l; n; n = n->next)
		crc = mark_crc16(crc, (uint32_t)n->key);
	return crc;
}

static uint16_t mark_matrix(uint32_t seed, uint16_t crc)
{
	for (int i = 0; i < MARK_N; i++)
		for (int j = 0; j < MARK_N; j++) {
			mark_a[i][j] = (int32_t)((seed + (uint32_t)(i * 31 + j)) % 200) - 100;
			mark_b[i][j] = (int32_t)((seed ^ (uint32_t)(j * 17 + i)) % 50);
		}
	for (int i = 0; i < MARK_N; i++)
		for (int j = 0; j < MARK_N; j++) {
			int32_t s = 0;
			for (int k = 0; k < MARK_N; k++)
				s += mark_a[i][k] * mark_b[k][j];
			mark_c[i][j] = s;
		}
	int32_t tr = 0, mx = mark_c[0][0];
	for (int i = 0; i < MARK_N; i++) {
		tr += mark_c[i][i];
		for (int j = 0; j < MARK_N; j++)
			if (mark_c[i][j] > mx)
				mx = mark_c[i][j];
	}
	crc = mark_crc16(crc, (uint32_t)tr);
	return mark_crc16(crc, (uint32_t)mx);
}

/* Scans the text: integers, decimals with a point, exponents, and junk. */
enum { S_START, S_INT, S_FRAC, S_EXP, S_EXPDIG, S_JUNK, S_COUNT };

static uint16_t mark_state(uint32_t seed, uint16_t crc)
{
	static const char alphabet[] = "0123456789.e+-, x";
	uint32_t x = seed;
	for (int i = 0; i < MARK_TEXT - 1; i++) {
		x = x * 1664525u + 1013904223u;
		mark_text[i] = alphabet[(x >> 24) % (sizeof(alphabet) - 1)];
	}
	mark_text[MARK_TEXT - 1] = 0;
	uint32_t count[S_COUNT] = {0};
	int s = S_START;
	for (const char *p = mark_text; *p; p++) {
		char c = *p;
		int digit = c >= '0' && c <= '9';
		switch (s) {
		case S_START:
			s = digit		     ? S_INT
			    : (c == '+' || c == '-') ? S_INT
			    : c == ','		     ? S_START
						     : S_JUNK;
			break;
		case S_INT:
			s = digit ? S_INT : c == '.' ? S_FRAC : c == 'e' ? S_EXP : S_START;
			break;
		case S_FRAC: s = digit ? S_FRAC : c == 'e' ? S_EXP : S_START; break;
		case S_EXP: s = digit || c == '+' || c == '-' ? S_EXPDIG : S_JUNK; break;
		case S_EXPDIG: s = digit ? S_EXPDIG : S_START; break;
		default: s = c == ',' || c == ' ' ? S_START : S_JUNK; break;
		}
		count[s]++;
	}
	for (int i = 0; i < S_COUNT; i++)
		crc = mark_crc16(crc, count[i]);
	return crc;
}

/* Runs `iters` iterations; returns the CRC of everything they computed. */
static uint16_t mark_run(uint32_t iters)
{
	uint16_t crc = 0;
	for (uint32_t i = 0; i < iters; i++) {
		crc = mark_list(i * 7919u + 1, crc);
		crc = mark_matrix(i * 104729u + 3, crc);
		crc = mark_state(i * 15485863u + 5, crc);
	}
	return crc;
}

#endif
