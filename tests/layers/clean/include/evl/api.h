#ifndef API_H
#define API_H
struct evl_loop;
#endif
