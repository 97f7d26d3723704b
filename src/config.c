/* config: being written */
#include "config.h"
