"""The property tests' hypothesis profile: deterministic and database-free.

Every test here takes `tests.property.support.PROPERTY` as the parent of its
own `@settings(...)`, so its examples never depend on the profile that is
loaded. The profile is registered (not loaded, which would change hypothesis's
defaults for the whole session) so that it can also be chosen by name:
`pytest --hypothesis-profile=oauth21-property`.
"""

from hypothesis import settings

from tests.property.support import PROPERTY

settings.register_profile("oauth21-property", PROPERTY)
