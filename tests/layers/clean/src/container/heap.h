#ifndef HEAP_H
#define HEAP_H
#include "base/ring.h"
struct heap {
    int n;
};
int heap_check(const struct heap *h);
#endif
