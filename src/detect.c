/* detect: being written */
#include "detect.h"
