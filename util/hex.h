/* hex: the one hexadecimal digit decoder. */
#ifndef VIMON_UTIL_HEX_H
#define VIMON_UTIL_HEX_H

/* The value (0-15) of the hex digit c, either case; -1 when c is not one. */
int hex_digit(int c);

#endif
