/* avro_int.h - limits shared by avro.c, avro_decode.c and avro_encode.c (internal). */
#ifndef WB_AVRO_INT_H
#define WB_AVRO_INT_H

#define WB_AVRO_MAX_FIELDS 256 /* fields per record */
#define WB_AVRO_MAX_DEPTH  32  /* nesting of schemas and of decoded values */

#endif
