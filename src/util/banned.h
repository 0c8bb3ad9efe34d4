/*
 * banned.h - make the classic string footguns fail to compile.
 * Include last in every .c file of the project.
 */
#ifndef DD_UTIL_BANNED_H
#define DD_UTIL_BANNED_H

#define DD_BANNED(f) sorry_##f##_is_banned_use_dd_buf_or_snprintf

#undef strcpy
#define strcpy(a, b) DD_BANNED(strcpy)
#undef strcat
#define strcat(a, b) DD_BANNED(strcat)
#undef strncpy
#define strncpy(a, b, n) DD_BANNED(strncpy)
#undef strncat
#define strncat(a, b, n) DD_BANNED(strncat)
#undef sprintf
#define sprintf(...) DD_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) DD_BANNED(vsprintf)
#undef gets
#define gets(a) DD_BANNED(gets)
#undef strtok
#define strtok(a, b) DD_BANNED(strtok)

#endif
