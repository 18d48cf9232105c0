struct timers {
    int count;
    int *heap;
};
int timers_count(const struct timers *t);
