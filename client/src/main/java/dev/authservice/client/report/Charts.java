package dev.authservice.client.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.svg.SVGGraphics2D;

/** The report's charts, drawn by JFreeChart into SVG (JFreeSVG), so the report needs no script or network. */
final class Charts {
  static final int WIDTH = 900;
  static final int HEIGHT = 320;
  private static final Color SUCCESS = new Color(0x2E7D32);
  private static final Color FAILURE = new Color(0xC62828);
  private static final Color NEUTRAL = new Color(0x1565C0);

  private Charts() {}

  /** Stacked bars: one per bucket label, one segment per series (e.g. success and failure). */
  static String stacked(String title, List<String> buckets, Map<String, Map<String, Long>> seriesByBucket,
      List<String> series) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (String bucket : buckets) {
      for (String s : series) {
        data.addValue(seriesByBucket.getOrDefault(bucket, Map.of()).getOrDefault(s, 0L), s, bucket);
      }
    }
    JFreeChart chart = ChartFactory.createStackedBarChart(title, "hour (UTC)", "events", data,
        PlotOrientation.VERTICAL, true, false, false);
    CategoryPlot plot = style(chart);
    BarRenderer renderer = (BarRenderer) plot.getRenderer();
    for (int i = 0; i < series.size(); i++) {
      renderer.setSeriesPaint(i, series.get(i).contains("FAIL") ? FAILURE : series.get(i).contains("SUCC") ? SUCCESS
          : NEUTRAL);
    }
    CategoryAxis axis = plot.getDomainAxis();
    axis.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
    return svg(chart);
  }

  /** Horizontal bars, largest first: a top-N list. */
  static String top(String title, String what, List<Map.Entry<String, Long>> rows) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (Map.Entry<String, Long> row : rows) {
      data.addValue(row.getValue(), "count", row.getKey().isEmpty() ? "(none)" : row.getKey());
    }
    JFreeChart chart = ChartFactory.createBarChart(title, what, "count", data, PlotOrientation.HORIZONTAL, false,
        false, false);
    CategoryPlot plot = style(chart);
    plot.getRenderer().setSeriesPaint(0, title.toLowerCase().contains("alert") ? NEUTRAL : FAILURE);
    return svg(chart);
  }

  private static CategoryPlot style(JFreeChart chart) {
    chart.setBackgroundPaint(Color.WHITE);
    chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(new Color(0xFAFAFA));
    plot.setRangeGridlinePaint(new Color(0xDDDDDD));
    plot.setNoDataMessage("no events in this period");
    BarRenderer renderer = (BarRenderer) plot.getRenderer();
    renderer.setBarPainter(new StandardBarPainter());
    renderer.setShadowVisible(false);
    return plot;
  }

  private static String svg(JFreeChart chart) {
    SVGGraphics2D g2 = new SVGGraphics2D(WIDTH, HEIGHT);
    chart.draw(g2, new Rectangle(0, 0, WIDTH, HEIGHT));
    return g2.getSVGElement();
  }
}
