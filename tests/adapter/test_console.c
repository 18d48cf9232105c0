/*
 * console output compared with what Node 20 prints for the same calls (the expected strings
 * were produced with `node -e`). stdout/stderr are redirected into a temporary file.
 */
#include "duk_env.h"

#include <unistd.h>

static char captured[8192];

/* Runs code with file descriptor fd redirected; the output lands in `captured`. */
static const char *capture(struct duk_env *e, int fd, const char *code)
{
    FILE *tmp = tmpfile();
    ASSERT_NOT_NULL(tmp);
    fflush(stdout);
    fflush(stderr);
    int saved = dup(fd);
    ASSERT_TRUE(saved >= 0);
    ASSERT_TRUE(dup2(fileno(tmp), fd) >= 0);
    env_eval(e, code);
    fflush(stdout);
    fflush(stderr);
    ASSERT_TRUE(dup2(saved, fd) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(captured, 1, sizeof(captured) - 1, tmp);
    captured[n] = '\0';
    fclose(tmp);
    return captured;
}

TEST(log_renders_values_like_node)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_STR_EQ(capture(&e, 1,
                          "console.log(-0, [-0], 0, 1.5, 'str', ['str'], true, null,"
                          " undefined, NaN)"),
                  "-0 [ -0 ] 0 1.5 str [ 'str' ] true null undefined NaN\n");
    ASSERT_STR_EQ(capture(&e, 1,
                          "var c = {name: 'c'}; c.self = c; console.log(c);"
                          " var d = [1, 2]; d.push(d); console.log(d)"),
                  "<ref *1> { name: 'c', self: [Circular *1] }\n"
                  "<ref *1> [ 1, 2, [Circular *1] ]\n");
    ASSERT_STR_EQ(capture(&e, 1, "console.log({a: {b: {c: {d: 1}}}}, [[1, [2, [3]]]])"),
                  "{ a: { b: { c: [Object] } } } [ [ 1, [ 2, [Array] ] ] ]\n");
    ASSERT_STR_EQ(capture(&e, 1,
                          "console.log(['it\\'s', 'q\"', 'n\\nl'], {'a-b': 1, $x: 2},"
                          " function foo() {}, Symbol('s'), new Date(0), /x/g)"),
                  "[ \"it's\", 'q\"', 'n\\nl' ] { 'a-b': 1, '$x': 2 } [Function: foo] "
                  "Symbol(s) 1970-01-01T00:00:00.000Z /x/g\n");
    ASSERT_STR_EQ(capture(&e, 1,
                          "console.log([1,2,3,4,5,6,7], new Array(5), [1,,3],"
                          " Object.create(null))"),
                  "[\n  1, 2, 3, 4,\n  5, 6, 7\n] [ <5 empty items> ] [ 1, <1 empty item>, 3 ] "
                  "[Object: null prototype] {}\n");
    ASSERT_STR_EQ(capture(&e, 1,
                          "function Foo() { this.a = 1; } console.log(new Foo(),"
                          " new Number(3), new String('s'), [undefined, null])"),
                  "Foo { a: 1 } [Number: 3] [String: 's'] [ undefined, null ]\n");
    env_close(&e);
}

TEST(format_directives_like_node)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_STR_EQ(capture(&e, 1,
                          "console.log('%s|%d|%i|%f|%j|%O|%c|%%', 'a', 42.5, 42.5,"
                          " '3.5', {a: 1}, {c: 2}, 'css')"),
                  "a|42.5|42|3.5|{\"a\":1}|{ c: 2 }||%\n");
    ASSERT_STR_EQ(capture(&e, 1,
                          "console.log('%s', {a: 1}, 'extra', 5);"
                          " console.log('%d', '0x10', '%s'); console.log('100%', 'x')"),
                  "{ a: 1 } extra 5\n16 %s\n100% x\n");
    env_close(&e);
}

TEST(streams_groups_counts_and_tables)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_STR_EQ(capture(&e, 2,
                          "console.warn('w'); console.error('e %d', 1);"
                          " console.assert(false, 'msg %s', 'y'); console.assert(true)"),
                  "w\ne 1\nAssertion failed: msg y\n");
    ASSERT_STR_EQ(capture(&e, 1,
                          "console.info('i'); console.debug('d');"
                          " console.group('G'); console.log('a\\nb'); console.group();"
                          " console.log({x: 1}); console.groupEnd(); console.groupEnd();"
                          " console.log('c'); console.count(); console.count('x');"
                          " console.count(); console.dir({a: {b: 1}}, {depth: 0})"),
                  "i\nd\nG\n  a\n  b\n    { x: 1 }\nc\ndefault: 1\nx: 1\ndefault: 2\n"
                  "{ a: [Object] }\n");
    ASSERT_STR_EQ(capture(&e, 1, "console.table([{a: 1, b: 'x'}, {a: 22, c: true}])"),
                  "┌─────────┬────┬─────┬──────┐\n"
                  "│ (index) │ a  │ b   │ c    │\n"
                  "├─────────┼────┼─────┼──────┤\n"
                  "│ 0       │ 1  │ 'x' │      │\n"
                  "│ 1       │ 22 │     │ true │\n"
                  "└─────────┴────┴─────┴──────┘\n");
    env_close(&e);
}

TEST(performance_now_is_relative_to_time_origin)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_STR_EQ(env_str(&e, "var a = performance.now(); var b = performance.now();"
                              " (a >= 0 && a < 60000 && b >= a &&"
                              " Math.abs(performance.timeOrigin + a - Date.now()) < 1000)"),
                  "true");
    env_close(&e);
}
