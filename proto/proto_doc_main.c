/*
 * proto_doc_main.c - prints docs/protocol.md to stdout (`make proto-doc`).
 */
#include "proto_doc.h"

int main(void)
{
	proto_doc_write(stdout);
	return fflush(stdout) != 0;
}
