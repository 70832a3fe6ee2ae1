/* vi/soap: the one SOAP request envelope writer (every value XML-escaped). */
#include "vi/soap.h"

/*
 * Element names (method, argument names, xsi types) come from our own code
 * and are written as they are; every value and attribute value is escaped.
 */

void vi_soap_begin(struct buf *b, const char *method, const char *this_type, const char *this_value)
{
	buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		    "<soapenv:Envelope"
		    " xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\""
		    " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
		    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
		    "<soapenv:Body><");
	buf_adds(b, method);
	buf_adds(b, " xmlns=\"urn:vim25\">");
	vi_soap_add_moref(b, "_this", this_type, this_value);
}

void vi_soap_add(struct buf *b, const char *name, const char *value)
{
	buf_addf(b, "<%s>", name);
	buf_add_xml(b, value ? value : "");
	buf_addf(b, "</%s>", name);
}

void vi_soap_add_int(struct buf *b, const char *name, long long value)
{
	buf_addf(b, "<%s>%lld</%s>", name, value, name);
}

void vi_soap_add_moref(struct buf *b, const char *name, const char *type, const char *value)
{
	buf_addf(b, "<%s type=\"", name);
	buf_add_xml(b, type ? type : "");
	buf_adds(b, "\">");
	buf_add_xml(b, value ? value : "");
	buf_addf(b, "</%s>", name);
}

void vi_soap_open(struct buf *b, const char *name, const char *xsi_type)
{
	buf_addf(b, "<%s", name);
	if (xsi_type) {
		buf_adds(b, " xsi:type=\"");
		buf_add_xml(b, xsi_type);
		buf_addc(b, '"');
	}
	buf_addc(b, '>');
}

void vi_soap_close(struct buf *b, const char *name)
{
	buf_addf(b, "</%s>", name);
}

void vi_soap_end(struct buf *b, const char *method)
{
	buf_addf(b, "</%s></soapenv:Body></soapenv:Envelope>", method);
}
