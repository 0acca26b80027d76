/* badimport.c — imports a function the sandbox does not offer ("env"."host_shell");
 * loading must fail with an error naming it. */
__attribute__((import_module("env"), import_name("host_shell"))) int host_shell(int);

int main(void) {
    return host_shell(1);
}
