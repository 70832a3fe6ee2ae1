/* vi/soap: the one SOAP request envelope writer. */
#ifndef VIMON_VI_SOAP_H
#define VIMON_VI_SOAP_H

#include "util/buf.h"

/* Starts <soapenv:Envelope><soapenv:Body><METHOD xmlns="urn:vim25"> and the
 * _this argument (a ManagedObjectReference of this_type / this_value). */
void vi_soap_begin(struct buf *b, const char *method, const char *this_type,
		   const char *this_value);

/* <name>value</name>, value XML-escaped. */
void vi_soap_add(struct buf *b, const char *name, const char *value);

/* <name>N</name> */
void vi_soap_add_int(struct buf *b, const char *name, long long value);

/* <name type="TYPE">value</name> */
void vi_soap_add_moref(struct buf *b, const char *name, const char *type, const char *value);

/* <name> or <name xsi:type="TYPE"> (xsi_type may be NULL), and its end tag. */
void vi_soap_open(struct buf *b, const char *name, const char *xsi_type);
void vi_soap_close(struct buf *b, const char *name);

/* Ends the method element, Body and Envelope. Check b->failed afterwards. */
void vi_soap_end(struct buf *b, const char *method);

#endif
