#ifndef LOW_H
#define LOW_H

#include "high/high.h"
#endif
