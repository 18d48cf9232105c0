# Warnings every evl target compiles with. Third-party code (Duktape) is built without them.
set(EVL_WARNING_FLAGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wcast-qual -Wwrite-strings -Wvla -Wformat=2 -Wundef)
if(EVL_WERROR)
  list(APPEND EVL_WARNING_FLAGS -Werror)
endif()

function(evl_target_warnings target)
  target_compile_options(${target} PRIVATE ${EVL_WARNING_FLAGS})
endfunction()
