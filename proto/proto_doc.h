/*
 * proto_doc.h - the message reference, written from proto_messages.h
 * (docs/protocol.md; `make proto-doc`).
 */
#ifndef RAFTKV_PROTO_DOC_H
#define RAFTKV_PROTO_DOC_H

#include <stdio.h>

/* Writes the markdown reference of every message to f (borrowed). */
void proto_doc_write(FILE *f);

#endif
