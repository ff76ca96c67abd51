/* unit_main: how every unit test program registers its suite, runs it and says whether it passed. */
#ifndef FW_TEST_UNIT_MAIN_H
#define FW_TEST_UNIT_MAIN_H

#include <stddef.h>

#include <CUnit/Basic.h>

struct unit_test {
	const char *name;
	CU_TestFunc fn;
};

#define UNIT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Register the suite name (init and clean: its setup and teardown, or NULL)
 * with its n tests and run them verbosely. 2 when CUnit could not register
 * them; else 1 when an assertion or a test failed, or the suite's setup did
 * (then it runs no test), and 0 when all passed.
 */
static int unit_run(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean, const struct unit_test *tests,
		    size_t n)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite(name, init, clean);
	for (size_t i = 0; s != NULL && i < n; i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			s = NULL;
	if (s == NULL) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed != 0;
}

#endif
