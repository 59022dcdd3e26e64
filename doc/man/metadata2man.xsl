<?xml version="1.0"?>
<!-- SPDX-License-Identifier: GPL-2.0-or-later -->
<!-- An agent's OCF meta-data to a man(7) page, so the page can never drift
     from the agent: "AGENT meta-data | xsltproc metadata2man.xsl -". The page
     is named ocf_<provider>_<agent>(7), as resource-agents names its pages. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:param name="provider" select="'percona'"/>
  <xsl:param name="date" select="''"/>
  <!-- where the packages install crm-examples/ (CMake passes it) -->
  <xsl:param name="examples" select="'/usr/share/doc/pmm-ha-agents/examples'"/>

  <!-- roff: a backslash doubled, a leading dot or quote escaped -->
  <xsl:template name="roff">
    <xsl:param name="text"/>
    <xsl:variable name="t" select="normalize-space($text)"/>
    <xsl:call-template name="escape-lead">
      <xsl:with-param name="text">
        <xsl:call-template name="replace">
          <xsl:with-param name="text" select="$t"/>
          <xsl:with-param name="from" select="'\'"/>
          <xsl:with-param name="to" select="'\e'"/>
        </xsl:call-template>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="escape-lead">
    <xsl:param name="text"/>
    <xsl:if test="starts-with($text, '.') or starts-with($text, &quot;'&quot;)">\&amp;</xsl:if>
    <xsl:value-of select="$text"/>
  </xsl:template>

  <xsl:template name="replace">
    <xsl:param name="text"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:choose>
      <xsl:when test="contains($text, $from)">
        <xsl:value-of select="substring-before($text, $from)"/>
        <xsl:value-of select="$to"/>
        <xsl:call-template name="replace">
          <xsl:with-param name="text" select="substring-after($text, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="/resource-agent">
    <xsl:variable name="name" select="@name"/>
    <xsl:text>.TH OCF_</xsl:text>
    <xsl:value-of select="translate($provider, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"/>
    <xsl:text>_</xsl:text>
    <xsl:value-of select="translate($name, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"/>
    <xsl:text> 7 "</xsl:text><xsl:value-of select="$date"/>
    <xsl:text>" "pmm-ha-agents </xsl:text><xsl:value-of select="@version"/>
    <xsl:text>" "OCF resource agents"&#10;</xsl:text>
    <xsl:text>.SH NAME&#10;ocf_</xsl:text><xsl:value-of select="$provider"/>_<xsl:value-of select="$name"/>
    <xsl:text> \- </xsl:text>
    <xsl:call-template name="roff"><xsl:with-param name="text" select="shortdesc"/></xsl:call-template>
    <xsl:text>&#10;.SH SYNOPSIS&#10;.B </xsl:text><xsl:value-of select="$name"/>
    <xsl:text>&#10;{</xsl:text>
    <xsl:for-each select="actions/action[not(@name = preceding-sibling::action/@name)]">
      <xsl:value-of select="@name"/><xsl:if test="position() != last()">|</xsl:if>
    </xsl:for-each>
    <xsl:text>}&#10;.SH DESCRIPTION&#10;</xsl:text>
    <xsl:call-template name="roff"><xsl:with-param name="text" select="longdesc"/></xsl:call-template>
    <xsl:text>&#10;.SH SUPPORTED PARAMETERS&#10;</xsl:text>
    <xsl:for-each select="parameters/parameter">
      <xsl:text>.TP&#10;.B </xsl:text><xsl:value-of select="@name"/>
      <xsl:text>&#10;</xsl:text>
      <xsl:call-template name="roff"><xsl:with-param name="text" select="longdesc"/></xsl:call-template>
      <xsl:text>&#10;.br&#10;(</xsl:text>
      <xsl:value-of select="content/@type"/>
      <xsl:if test="content/@default"><xsl:text>, default </xsl:text><xsl:value-of select="content/@default"/></xsl:if>
      <xsl:if test="@required = '1'"><xsl:text>, required</xsl:text></xsl:if>
      <xsl:if test="@unique = '1'"><xsl:text>, unique</xsl:text></xsl:if>
      <xsl:if test="@reloadable = '1'"><xsl:text>, reloadable</xsl:text></xsl:if>
      <xsl:text>)&#10;</xsl:text>
    </xsl:for-each>
    <xsl:text>.SH SUPPORTED ACTIONS&#10;</xsl:text>
    <xsl:for-each select="actions/action">
      <xsl:text>.TP&#10;.B </xsl:text><xsl:value-of select="@name"/>
      <xsl:text>&#10;timeout </xsl:text><xsl:value-of select="@timeout"/>
      <xsl:if test="@interval"><xsl:text>, interval </xsl:text><xsl:value-of select="@interval"/></xsl:if>
      <xsl:if test="@depth"><xsl:text>, depth </xsl:text><xsl:value-of select="@depth"/></xsl:if>
      <xsl:if test="@role"><xsl:text>, role </xsl:text><xsl:value-of select="@role"/></xsl:if>
      <xsl:text>&#10;</xsl:text>
    </xsl:for-each>
    <xsl:text>.SH EXAMPLE&#10;With pcs:&#10;.PP&#10;.nf&#10;pcs resource create my-</xsl:text>
    <xsl:value-of select="$name"/><xsl:text> ocf:</xsl:text><xsl:value-of select="$provider"/>:<xsl:value-of select="$name"/>
    <xsl:for-each select="parameters/parameter[@required = '1']">
      <xsl:text> \&#10;    </xsl:text><xsl:value-of select="@name"/><xsl:text>=...</xsl:text>
    </xsl:for-each>
    <xsl:text>&#10;.fi&#10;.PP&#10;With crmsh:&#10;.PP&#10;.nf&#10;crm configure primitive my-</xsl:text>
    <xsl:value-of select="$name"/><xsl:text> ocf:</xsl:text><xsl:value-of select="$provider"/>:<xsl:value-of select="$name"/>
    <xsl:if test="parameters/parameter[@required = '1']"><xsl:text> \&#10;    params</xsl:text></xsl:if>
    <xsl:for-each select="parameters/parameter[@required = '1']">
      <xsl:text> </xsl:text><xsl:value-of select="@name"/><xsl:text>=...</xsl:text>
    </xsl:for-each>
    <xsl:text>&#10;.fi&#10;.PP&#10;Working configurations of the whole PMM stack are in&#10;</xsl:text>
    <xsl:value-of select="$examples"/><xsl:text>.&#10;</xsl:text>
    <xsl:text>.SH SEE ALSO&#10;.BR ocf_percona_pmm-server (7),&#10;.BR ocf_percona_pmm-storage (7),&#10;.BR ocf_percona_pmm-vip (7),&#10;.BR pcs (8),&#10;.BR crm (8)&#10;</xsl:text>
  </xsl:template>
</xsl:stylesheet>
