package dev.authservice.server.paging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.authservice.server.core.ServiceException;
import org.junit.jupiter.api.Test;

/** AIP-158 page sizes: 0 is the default, larger ones are capped, a negative one is the caller's mistake. */
class PageSizesTest {
  @Test
  void zeroMeansTheDefaultAndLargeSizesAreCapped() {
    assertEquals(PageSizes.DEFAULT_PAGE_SIZE, PageSizes.pageSize(0));
    assertEquals(1, PageSizes.pageSize(1));
    assertEquals(PageSizes.MAX_PAGE_SIZE, PageSizes.pageSize(PageSizes.MAX_PAGE_SIZE));
    assertEquals(PageSizes.MAX_PAGE_SIZE, PageSizes.pageSize(PageSizes.MAX_PAGE_SIZE + 1));
    assertEquals(PageSizes.MAX_PAGE_SIZE, PageSizes.pageSize(Integer.MAX_VALUE));
  }

  @Test
  void aNegativeSizeIsInvalid() {
    ServiceException e = assertThrows(ServiceException.class, () -> PageSizes.pageSize(-1));
    assertEquals(ServiceException.Kind.INVALID_ARGUMENT, e.kind());
    assertEquals("page_size must not be negative", e.publicMessage());
  }
}
