#include "base/ok.h"
