#include "container/heap.h"
/* #include "loop/loop.h" in a comment is not an include */
int heap_check(const struct heap *h)
{
    return h->n < 0;
}
