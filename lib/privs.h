/* Least privilege: once its BPF programs are loaded and attached, virtscope
 * keeps only the capabilities reading the target still needs. */
#ifndef VS_PRIVS_H
#define VS_PRIVS_H

/* Drops every capability but those listed in privs.c. 0 or -errno. */
int vs_drop_privileges(void);

#endif
