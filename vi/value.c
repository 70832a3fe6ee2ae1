/* vi/value: strict readings of xsd scalars, dateTimes and morefs from captured nodes. */
#include "vi/value.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* XML Schema collapses whitespace around numbers, booleans and dates. */
static void trim(const char *s, const char **start, size_t *len)
{
	size_t n = strlen(s);

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	*start = s;
	*len = n;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int vi_text_int64(const char *s, int64_t *out, struct err *e)
{
	const char *p;
	size_t n, i = 0;
	bool neg = false;
	uint64_t v = 0, limit;

	if (!s)
		return err_set(e, ERR_PARSE, "missing integer value");
	trim(s, &p, &n);
	if (n > 0 && (p[0] == '-' || p[0] == '+')) {
		neg = p[0] == '-';
		i++;
	}
	if (i == n)
		goto bad;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d;

		if (!is_digit(p[i]))
			goto bad;
		d = (unsigned)(p[i] - '0');
		if (v > (limit - d) / 10)
			return err_set(e, ERR_PARSE, "integer out of range: \"%.40s\"", s);
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
bad:
	return err_set(e, ERR_PARSE, "not an integer: \"%.40s\"", s);
}

int vi_text_bool(const char *s, bool *out, struct err *e)
{
	const char *p;
	size_t n;

	if (!s)
		return err_set(e, ERR_PARSE, "missing boolean value");
	trim(s, &p, &n);
	if ((n == 4 && memcmp(p, "true", 4) == 0) || (n == 1 && p[0] == '1')) {
		*out = true;
		return 0;
	}
	if ((n == 5 && memcmp(p, "false", 5) == 0) || (n == 1 && p[0] == '0')) {
		*out = false;
		return 0;
	}
	return err_set(e, ERR_PARSE, "not a boolean: \"%.40s\"", s);
}

/* strtod follows LC_NUMERIC; the wire format always uses '.'. */
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)? */
static bool double_syntax(const char *p, size_t n)
{
	size_t i = 0, mant = 0;

	if (i < n && (p[i] == '+' || p[i] == '-'))
		i++;
	while (i < n && is_digit(p[i])) {
		i++;
		mant++;
	}
	if (i < n && p[i] == '.') {
		i++;
		while (i < n && is_digit(p[i])) {
			i++;
			mant++;
		}
	}
	if (mant == 0)
		return false;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		size_t exp = 0;

		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		while (i < n && is_digit(p[i])) {
			i++;
			exp++;
		}
		if (exp == 0)
			return false;
	}
	return i == n;
}

int vi_text_double(const char *s, double *out, struct err *e)
{
	char tmp[128];
	const char *p;
	char *end;
	size_t n;
	double v;

	if (!s)
		return err_set(e, ERR_PARSE, "missing number value");
	trim(s, &p, &n);
	if (n == 3 && memcmp(p, "INF", 3) == 0) {
		*out = INFINITY;
		return 0;
	}
	if (n == 4 && memcmp(p, "-INF", 4) == 0) {
		*out = -INFINITY;
		return 0;
	}
	if (n == 3 && memcmp(p, "NaN", 3) == 0) {
		*out = NAN;
		return 0;
	}
	/* most values are integers of up to 15 digits: exact as doubles, and
	 * read here without strtod (a sync reads hundreds of thousands) */
	if (n > 0 && n <= 16) {
		size_t i = p[0] == '-' || p[0] == '+';
		int64_t acc = 0;

		if (i < n && n - i <= 15) {
			while (i < n && is_digit(p[i]))
				acc = acc * 10 + (p[i++] - '0');
			if (i == n && (n > 1 || is_digit(p[0]))) {
				*out = p[0] == '-' ? -(double)acc : (double)acc;
				return 0;
			}
		}
	}
	if (n >= sizeof(tmp) || !double_syntax(p, n))
		return err_set(e, ERR_PARSE, "not a number: \"%.40s\"", s);
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	pthread_once(&c_locale_once, c_locale_init);
	if (!c_locale)
		return err_set(e, ERR_NOMEM, "cannot create the C locale");
	errno = 0;
	v = strtod_l(tmp, &end, c_locale);
	if (*end != '\0')
		return err_set(e, ERR_PARSE, "not a number: \"%.40s\"", s);
	if (errno == ERANGE && isinf(v))
		return err_set(e, ERR_PARSE, "number out of range: \"%.40s\"", s);
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's civil algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly n digits at *p. */
static bool digits(const char **p, const char *end, int n, int *out)
{
	int v = 0, i;

	if (end - *p < n)
		return false;
	for (i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

int vi_time_parse(const char *s, double *out, struct err *e)
{
	const char *p, *end;
	size_t n;
	int64_t year = 0;
	int ydigits = 0, mon, day, hh, mm, ss, oh = 0, om = 0, sign = 1;
	double frac = 0, scale = 0.1;
	bool neg_year = false;

	if (!s)
		return err_set(e, ERR_PARSE, "missing dateTime value");
	trim(s, &p, &n);
	end = p + n;
	if (p < end && *p == '-') {
		neg_year = true;
		p++;
	}
	while (p < end && is_digit(*p) && ydigits < 10) {
		year = year * 10 + (*p - '0');
		p++;
		ydigits++;
	}
	if (ydigits < 4)
		goto bad;
	if (neg_year)
		year = -year;
	if (!expect(&p, end, '-') || !digits(&p, end, 2, &mon) || !expect(&p, end, '-') ||
	    !digits(&p, end, 2, &day) || !expect(&p, end, 'T') || !digits(&p, end, 2, &hh) ||
	    !expect(&p, end, ':') || !digits(&p, end, 2, &mm) || !expect(&p, end, ':') ||
	    !digits(&p, end, 2, &ss))
		goto bad;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !is_digit(*p))
			goto bad;
		while (p < end && is_digit(*p)) {
			frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (p < end && *p == 'Z') {
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(&p, end, 2, &oh) || !expect(&p, end, ':') || !digits(&p, end, 2, &om))
			goto bad;
		if (oh > 14 || om > 59 || (oh == 14 && om != 0))
			goto bad;
	}
	if (p != end)
		goto bad;
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || mm > 59 || ss > 60)
		goto bad;
	if (hh > 24 || (hh == 24 && (mm != 0 || ss != 0 || frac != 0)))
		goto bad;
	*out = (double)days_from_civil(year, mon, day) * 86400.0 + hh * 3600 + mm * 60 + ss + frac -
	       sign * (oh * 3600 + om * 60);
	return 0;
bad:
	return err_set(e, ERR_PARSE, "not an xsd:dateTime: \"%.40s\"", s);
}

static const char *node_text(const struct vi_node *n)
{
	return n ? n->text : NULL;
}

int vi_value_int64(const struct vi_node *n, int64_t *out, struct err *e)
{
	return vi_text_int64(node_text(n), out, e);
}

int vi_value_bool(const struct vi_node *n, bool *out, struct err *e)
{
	return vi_text_bool(node_text(n), out, e);
}

int vi_value_double(const struct vi_node *n, double *out, struct err *e)
{
	return vi_text_double(node_text(n), out, e);
}

int vi_value_time(const struct vi_node *n, double *out, struct err *e)
{
	return vi_time_parse(node_text(n), out, e);
}

int vi_value_moref(const struct vi_node *n, const char **type, const char **value, struct err *e)
{
	if (!n)
		return err_set(e, ERR_PARSE, "missing managed object reference");
	if (!n->type_attr || !n->type_attr[0] || !n->text || !n->text[0])
		return err_set(e, ERR_PARSE, "<%.64s> is not a managed object reference",
			       n->name ? n->name : "?");
	*type = n->type_attr;
	*value = n->text;
	return 0;
}
