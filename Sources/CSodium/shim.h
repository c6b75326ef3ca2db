#ifndef KEYWAY_CSODIUM_SHIM_H
#define KEYWAY_CSODIUM_SHIM_H
#include <sodium.h>
#endif
