#include "made_here.h"
#include "missing.h"
