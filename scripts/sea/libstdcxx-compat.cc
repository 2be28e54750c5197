// libstdcxx-compat.cc - linked into every native addon embedded in dist/ior.
// g++ 12's <new> calls std::__throw_bad_array_new_length (GLIBCXX_3.4.29,
// libstdc++ of gcc 11) for `new T[n]` with a bad n; Debian 11 ships gcc 10's
// libstdc++ (3.4.28). A hidden local definition keeps the addon off that
// version; it throws the same exception the library would.
#include <new>

namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length()
{
	throw bad_array_new_length();
}
} // namespace std
