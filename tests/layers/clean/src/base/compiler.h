#ifndef COMPILER_H
#define COMPILER_H
#include "evl/api.h"
#endif
