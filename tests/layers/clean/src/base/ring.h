#ifndef RING_H
#define RING_H
#include "compiler.h" /* same floor, same folder */
#endif
