// The floor of benches/floor.c, linked into this program so that every case is timed
// next to it, in the same process.
#define FLOOR_LIBRARY
#include "../floor.c"
