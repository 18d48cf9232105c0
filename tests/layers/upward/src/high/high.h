#ifndef HIGH_H
#define HIGH_H
#include "low/low.h"
#endif
