/* Numbers as text for the reply lines, without printf (none on an MCU):
 * decimal integers, floats as printf("%.7g") would print them, and hex.
 */
#include <string.h>

#include "mts_device_internal.h"

static const char hex_digits[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                    '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

size_t mts_format_u64(char *buf, uint64_t value)
{
    char reversed[20];
    size_t n = 0;
    do {
        reversed[n++] = (char)('0' + (int)(value % 10u));
        value /= 10u;
    } while (value != 0u);
    for (size_t i = 0; i < n; i++)
        buf[i] = reversed[n - 1 - i];
    buf[n] = '\0';
    return n;
}

static size_t put_text(char *buf, size_t at, const char *text)
{
    while (*text != '\0')
        buf[at++] = *text++;
    return at;
}

size_t mts_format_float(char *buf, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    const int negative = (bits >> 31) != 0u;
    const uint32_t exponent_bits = (bits >> 23) & 0xFFu;
    size_t n = 0;
    if (exponent_bits == 0xFFu && (bits & 0x7FFFFFu) != 0u) {
        n = put_text(buf, 0, "nan");
        buf[n] = '\0';
        return n;
    }
    if (negative)
        buf[n++] = '-';
    if (exponent_bits == 0xFFu) {
        n = put_text(buf, n, "inf");
        buf[n] = '\0';
        return n;
    }
    if ((bits & 0x7FFFFFFFu) == 0u) {
        buf[n++] = '0';
        buf[n] = '\0';
        return n;
    }
    /* Scale |value| into [1, 10) by powers 10^(2^i) (float range: |e10| <= 45),
     * in double so that the 7 digits are right. */
    static const double powers[6] = {1e1, 1e2, 1e4, 1e8, 1e16, 1e32};
    double x = negative ? -(double)value : (double)value;
    int e10 = 0;
    if (x >= 10.0) {
        for (int i = 5; i >= 0; i--) {
            if (x >= powers[i]) {
                x /= powers[i];
                e10 += 1 << i;
            }
        }
    } else if (x < 1.0) {
        for (int i = 5; i >= 0; i--) {
            if (x * powers[i] < 10.0) {
                x *= powers[i];
                e10 -= 1 << i;
            }
        }
    }
    /* 7 digits, rounded half to even as printf does. */
    const double scaled = x * 1e6;
    uint32_t mantissa = (uint32_t)scaled;
    const double fraction = scaled - (double)mantissa;
    if (fraction > 0.5 || (fraction == 0.5 && (mantissa & 1u) != 0u))
        mantissa++;
    if (mantissa >= 10000000u) {
        mantissa = 1000000u;
        e10++;
    }
    char digits[7];
    for (int i = 6; i >= 0; i--) {
        digits[i] = (char)('0' + (int)(mantissa % 10u));
        mantissa /= 10u;
    }
    int last = 6; /* the last significant digit kept (trailing zeros dropped) */
    while (last > 0 && digits[last] == '0')
        last--;
    if (e10 < -4 || e10 >= 7) { /* d.dddddde+XX, as %g */
        buf[n++] = digits[0];
        if (last > 0) {
            buf[n++] = '.';
            for (int i = 1; i <= last; i++)
                buf[n++] = digits[i];
        }
        buf[n++] = 'e';
        buf[n++] = e10 < 0 ? '-' : '+';
        const int magnitude = e10 < 0 ? -e10 : e10;
        buf[n++] = (char)('0' + magnitude / 10);
        buf[n++] = (char)('0' + magnitude % 10);
    } else if (e10 < 0) { /* 0.000ddd */
        buf[n++] = '0';
        buf[n++] = '.';
        for (int i = -1; i > e10; i--)
            buf[n++] = '0';
        for (int i = 0; i <= last; i++)
            buf[n++] = digits[i];
    } else { /* ddd.dddd */
        for (int i = 0; i <= e10; i++)
            buf[n++] = digits[i];
        if (last > e10) {
            buf[n++] = '.';
            for (int i = e10 + 1; i <= last; i++)
                buf[n++] = digits[i];
        }
    }
    buf[n] = '\0';
    return n;
}

void mts_dev_format_hex32(char buf[8], uint32_t value)
{
    for (int i = 7; i >= 0; i--) {
        buf[i] = hex_digits[value & 15u];
        value >>= 4;
    }
}

void mts_dev_format_hex_byte(char pair[2], unsigned char byte)
{
    pair[0] = hex_digits[byte >> 4];
    pair[1] = hex_digits[byte & 15u];
}

int mts_dev_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
