/* jsonwalk: being written */
#include "jsonwalk.h"
